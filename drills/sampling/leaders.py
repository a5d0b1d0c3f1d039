"""Who believes it is the writable leader, sampled through the drill: split brain made visible.

Each PostgreSQL node's Patroni REST API answers `GET /primary` with 200 while that node runs as
the leader. A node cut off from its peers and etcd still answers the host (only its peers are cut
off), so two 200s at once are two nodes that would both accept writes. The sampler asks every node
every `every_s` seconds, concurrently, and records a `LeaderSample` whenever the set changes
(drills.sampling.base). A RabbitMQ quorum queue's leader is sampled beside it
(drills.sampling.queue_leaders); `start_samplers` starts what the expectations name, for the
checkers that declare they need leader samples (`SAMPLING`, found by drills.sampling.registry).
"""

from __future__ import annotations

import contextlib
import urllib.error
import urllib.request
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from drills.components._postgres_cluster import REST_PORT
from drills.components.base import LeaderRounds, Reading
from drills.core.events import LeaderSample
from drills.sampling.base import Sampler, Sampling
from drills.sampling.queue_leaders import QueueLeaderSampler, StackView, queue_of_subject
from drills.stack.live import as_logged_in

if TYPE_CHECKING:
    from drills.core.history import Event
    from drills.stack.definition import RoleMap
    from drills.stack.services import ServiceInfo

__all__ = ["SAMPLING", "LeaderSampler", "start_samplers"]

POSTGRES = "postgres"


def claims_leadership(port: int, timeout_s: float) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/primary", timeout=timeout_s) as resp:
            return bool(resp.status == 200)
    except (OSError, urllib.error.URLError):
        return False  # 503 (a replica), refused, frozen: not a writable leader as far as anyone can tell


def rest_ports(snap: Mapping[str, ServiceInfo], roles: RoleMap, rest_port: int) -> dict[str, int]:
    """Where the host reaches each running PostgreSQL member's Patroni REST API (the stack file's port)."""
    return {name: snap[name].ports[rest_port] for name in roles.members("postgres", snap)
            if snap[name].state == "running" and rest_port in snap[name].ports}


class LeaderSampler(Sampler):
    """PostgreSQL: every member asked `GET /primary`, concurrently, every 0.25 s."""

    name = "leader-sampler"

    def __init__(self, stack: StackView, record: Callable[..., Event], now: Callable[[], float], *,
                 every_s: float = 0.25, timeout_s: float = 0.5) -> None:
        super().__init__(record, now, every_s=every_s)
        self.stack, self.timeout_s = stack, timeout_s
        self.ports: dict[str, int] = {}
        self._pool = ThreadPoolExecutor(max_workers=4)
        self._rounds: LeaderRounds | None = None

    def read(self) -> dict[str, Reading]:
        bound = self.stack.definition.postgres_bound()
        if bound is not None and bound.adapter.leaders is not None:
            # Another manager than Patroni: its adapter asks every member (drills.components).
            if self._rounds is None:
                self._rounds = bound.adapter.leaders.open(bound.spec, as_logged_in(self.stack), [POSTGRES])
            return dict(self._rounds.read())
        # Containers come and go during a drill (disk loss): look again every round; when the
        # engine is slow to answer, keep the last known ports.
        with contextlib.suppress(Exception):
            self.ports = rest_ports(self.stack.snapshot(), self.stack.settings.roles,
                                    self.stack.settings.definition.legacy_postgres().rest_port
                                    if self.stack.settings.definition else REST_PORT)
        ports = dict(self.ports)
        claims = dict(zip(ports, self._pool.map(lambda p: claims_leadership(p, self.timeout_s), ports.values()),
                          strict=True))
        return {POSTGRES: Reading(sorted(name for name, yes in claims.items() if yes), {"asked": sorted(ports)})}

    def close(self) -> None:
        super().close()
        self._pool.shutdown(wait=False)
        if self._rounds is not None:
            self._rounds.close()


def start_samplers(stack: StackView, record: Callable[..., Event], now: Callable[[], float],
                   components: Collection[str]) -> list[Sampler]:
    """A sampler for each kind of thing whose leaders the expectations need (`postgres`,
    `rabbitmq@<queue>`: drills.checkers.registry.sampled_of), started."""
    samplers: list[Sampler] = []
    if POSTGRES in components:
        samplers.append(LeaderSampler(stack, record, now))
    queues = sorted(q for q in (queue_of_subject(c) for c in components) if q is not None)
    if queues:
        samplers.append(QueueLeaderSampler(stack, record, now, queues=queues))
    unknown = sorted(set(components) - {POSTGRES} - {c for c in components if queue_of_subject(c) is not None})
    if unknown:
        raise ValueError(f"no sampler of the leaders of {', '.join(unknown)}")
    return [s.start() for s in samplers]


SAMPLING = Sampling(LeaderSample.NAME, start_samplers)
