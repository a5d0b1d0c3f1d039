"""A free /24 for each run's network, so two stacks (or a stack and the user's own networks) never
share addresses. A stack's Compose files may give members fixed addresses in it (`DRILLS_NET_PREFIX`,
as the reference stack's docker-compose.ha.yml does).

Two runners may pick the same free /24 at the same moment; Docker then refuses the second network
("Pool overlaps"), and the project retries with another pick (`is_overlap_error`).
"""

from __future__ import annotations

import ipaddress
import os
import random
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from drills.core.errors import StackError

if TYPE_CHECKING:
    import docker

DEFAULT_POOL = "172.30.0.0/16"


def pool() -> ipaddress.IPv4Network:
    """Where subnets are carved from: `DRILLS_SUBNET_POOL` (e.g. 10.213.0.0/16), else 172.30.0.0/16."""
    text = os.environ.get("DRILLS_SUBNET_POOL", DEFAULT_POOL)
    try:
        net = ipaddress.IPv4Network(text)
    except ValueError as exc:
        raise StackError(f"DRILLS_SUBNET_POOL={text!r} is not an IPv4 network") from exc
    if net.prefixlen > 24:
        raise StackError(f"DRILLS_SUBNET_POOL={text} is smaller than one /24")
    return net


def pick_free(used: Iterable[ipaddress.IPv4Network], within: ipaddress.IPv4Network,
              rng: random.Random | None = None) -> ipaddress.IPv4Network:
    """A random /24 of `within` overlapping nothing in `used` (random, so that concurrent runners
    rarely race for the same one)."""
    taken = list(used)
    free = [s for s in within.subnets(new_prefix=24) if not any(s.overlaps(u) for u in taken)]
    if not free:
        raise StackError(f"no free /24 left in {within}",
                         hint="run `drill clean`, or set DRILLS_SUBNET_POOL to another private range")
    return (rng or random.SystemRandom()).choice(free)


def host_routes(route_file: Path = Path("/proc/net/route")) -> list[ipaddress.IPv4Network]:
    """Networks this host routes to directly (its LANs, VPNs), default route excluded."""
    try:
        lines = route_file.read_text().splitlines()[1:]
    except OSError:
        return []
    nets = []
    for line in lines:
        cols = line.split()
        if len(cols) < 8:
            continue
        dest, mask = (int(cols[i], 16).to_bytes(4, "little") for i in (1, 7))
        if dest == bytes(4) and mask == bytes(4):
            continue
        try:
            nets.append(ipaddress.IPv4Network((ipaddress.IPv4Address(dest), str(ipaddress.IPv4Address(mask)))))
        except ValueError:
            continue
    return nets


def docker_subnets(client: docker.DockerClient) -> list[ipaddress.IPv4Network]:
    nets = []
    for network in client.networks.list():
        for cfg in (network.attrs.get("IPAM") or {}).get("Config") or []:
            try:
                net = ipaddress.ip_network(cfg.get("Subnet", ""), strict=False)
            except ValueError:
                continue
            if isinstance(net, ipaddress.IPv4Network):
                nets.append(net)
    return nets


def choose(client: docker.DockerClient, also_avoid: Iterable[ipaddress.IPv4Network] = ()) -> ipaddress.IPv4Network:
    return pick_free([*docker_subnets(client), *host_routes(), *also_avoid], pool())


def is_overlap_error(message: str) -> bool:
    return "Pool overlaps" in message or "overlaps with other one" in message
