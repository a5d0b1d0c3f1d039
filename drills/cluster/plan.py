"""What `drill cluster up --nodes N` creates, derived from N and the networks already in use (pure)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from drills.core.errors import SetupError

BRIDGE = "drillsc0"
RULE_COMMENT = "drills-cluster"  # every iptables rule of the cluster carries it, so `down` finds exactly those
NAMESPACE_PREFIX = "drills-node-"
VETH_PREFIX = "drillsc-n"  # host side of each node's veth pair; the node's side is its eth0
RUN_DIR = Path("/run/drills-cluster")  # sockets, pidfiles and exec roots: tmpfs, gone at reboot
DEFAULT_SUBNET = "10.213.0.0/24"
# Swarm's overlay networks draw from this pool; Docker's default (10.0.0.0/8) would contain our subnet.
DEFAULT_POOL = "10.214.0.0/16"
MAX_NODES = 9
FIRST_HOST = 11  # node N is .10+N: easy to read in `ip` and `docker node ls` output


@dataclass(frozen=True)
class NodePlan:
    index: int
    address: str  # on the bridge, without prefix length
    prefix: int

    @property
    def name(self) -> str:
        return f"node-{self.index}"

    @property
    def namespace(self) -> str:
        return f"{NAMESPACE_PREFIX}{self.index}"

    @property
    def veth(self) -> str:
        return f"{VETH_PREFIX}{self.index}"

    @property
    def socket(self) -> Path:
        return RUN_DIR / f"{self.name}.sock"

    @property
    def pidfile(self) -> Path:
        return RUN_DIR / f"{self.name}.pid"

    @property
    def exec_root(self) -> Path:
        return RUN_DIR / f"{self.name}.exec"

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"


@dataclass(frozen=True)
class ClusterPlan:
    subnet: str
    pool: str
    nodes: tuple[NodePlan, ...]
    bridge: str = BRIDGE

    @property
    def manager(self) -> NodePlan:
        return self.nodes[0]


def plan(count: int, in_use: Iterable[str], *, subnet: str = DEFAULT_SUBNET, pool: str = DEFAULT_POOL) -> ClusterPlan:
    """The cluster of `count` nodes on `subnet`; refused when it or the overlay pool overlaps a network
    in `in_use` (the host's routes and the main engine's networks)."""
    if not 1 <= count <= MAX_NODES:
        raise SetupError(f"--nodes {count}: a test cluster has 1 to {MAX_NODES} nodes",
                         hint="two or three nodes are enough to drill a host lost or cut off")
    net = _network(subnet, "--subnet")
    overlay = _network(pool, "the overlay pool")
    if net.num_addresses < FIRST_HOST + count + 1:
        raise SetupError(f"subnet {subnet} is too small for {count} nodes", hint="give a /24 with --subnet")
    if net.overlaps(overlay):
        raise SetupError(f"subnet {subnet} overlaps the overlay pool {pool}", hint="choose another --subnet")
    for used in sorted(set(in_use)):
        taken = _network(used, "a network in use")
        for mine, what in ((net, "the cluster's subnet"), (overlay, "the overlay pool")):
            if mine.overlaps(taken):
                raise SetupError(f"{what} {mine} overlaps {taken}, already in use on this machine",
                                 hint="choose a free range with --subnet (see `ip -4 route`)")
    nodes = tuple(NodePlan(i, str(net.network_address + FIRST_HOST + i - 1), net.prefixlen)
                  for i in range(1, count + 1))
    return ClusterPlan(subnet=str(net), pool=str(overlay), nodes=nodes)


def node_for(index: int, subnet: str) -> NodePlan:
    """Node `index` of a cluster on `subnet` (what `down` and `status` rebuild from the record)."""
    net = ipaddress.IPv4Network(subnet)
    return NodePlan(index, str(net.network_address + FIRST_HOST + index - 1), net.prefixlen)


def routes_in_use(route_output: str) -> list[str]:
    """The destination networks of `ip -4 route` output (the default route is no network of ours)."""
    found = []
    for line in route_output.splitlines():
        words = line.split()
        if not words or words[0] == "default":
            continue
        try:
            found.append(str(ipaddress.IPv4Network(words[0], strict=False)))
        except ValueError:
            continue
    return found


def _network(text: str, what: str) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(text, strict=False)
    except ValueError as exc:
        raise SetupError(f"{what}: {text!r} is no IPv4 network ({exc})", hint="write it as 10.213.0.0/24") from exc
