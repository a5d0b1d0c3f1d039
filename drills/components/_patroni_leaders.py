"""Who believes it is the writable leader of a PostgreSQL under Patroni, asked of each member's
REST API: the Patroni adapter's leader rounds, kept here until that adapter module exists
(docs/plans/components-protocol.md, C-P3); the registry lists them under `LEGACY_LEADERS`, and
`drills.sampling.leaders.RoundsSampler` runs them through a drill.

Each member answers `GET /primary` with 200 while it runs as the leader. A member cut off from its
peers and etcd still answers the host (only its peers are cut off), so two 200s at once are two
members that would both accept writes: split brain made visible. Every member is asked every
`every_s` seconds, concurrently.

The rounds get the stack as the sampler has it (`drills.stack.topology.StackView`, which this
package cannot import: read by duck typing) until Patroni's adapter opens them on a `Live`.
"""

from __future__ import annotations

import contextlib
import urllib.error
import urllib.request
from collections.abc import Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from drills.components._patroni_spec import PostgresSpec
from drills.components.base import Node, Reading

GROUP = "postgres"  # the subject of its samples: the role group
REST_PORT: int = PostgresSpec.model_fields["rest_port"].default  # a stack without a stack file


def claims_leadership(port: int, timeout_s: float) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/primary", timeout=timeout_s) as resp:
            return bool(resp.status == 200)
    except (OSError, urllib.error.URLError):
        return False  # 503 (a replica), refused, frozen: not a writable leader as far as anyone can tell


def rest_ports(snap: Mapping[str, Node], members: Collection[str], rest_port: int) -> dict[str, int]:
    """Where the host reaches each running member's Patroni REST API (the stack file's port)."""
    return {name: snap[name].ports[rest_port] for name in members
            if snap[name].state == "running" and rest_port in snap[name].ports}


class PrimaryClaims:
    """The rounds: every member asked `GET /primary`, concurrently, every 0.25 s."""

    def __init__(self, stack: Any, every_s: float = 0.25, timeout_s: float = 0.5) -> None:
        self.stack, self.every_s, self.timeout_s = stack, every_s, timeout_s
        self.ports: dict[str, int] = {}
        self._pool = ThreadPoolExecutor(max_workers=4)

    def _rest_port(self) -> int:
        definition = self.stack.settings.definition
        return int(definition.component("postgres", PostgresSpec).rest_port) if definition else REST_PORT

    def read(self) -> Mapping[str, Reading]:
        # Containers come and go during a drill (disk loss): look again every round; when the
        # engine is slow to answer, keep the last known ports.
        with contextlib.suppress(Exception):
            snap = self.stack.snapshot()
            self.ports = rest_ports(snap, self.stack.settings.roles.members(GROUP, snap), self._rest_port())
        ports = dict(self.ports)
        claims = dict(zip(ports, self._pool.map(lambda p: claims_leadership(p, self.timeout_s), ports.values()),
                          strict=True))
        return {GROUP: Reading(sorted(name for name, yes in claims.items() if yes), {"asked": sorted(ports)})}

    def close(self) -> None:
        self._pool.shutdown(wait=False)


def open_rounds(stack: Any, subjects: Collection[str]) -> PrimaryClaims:
    return PrimaryClaims(stack)
