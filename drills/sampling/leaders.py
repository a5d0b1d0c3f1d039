"""Who believes it is the writable leader, sampled through the drill: split brain made visible.

Each PostgreSQL node's Patroni REST API answers `GET /primary` with 200 while that node runs as
the leader. A node cut off from its peers and etcd still answers the host (only its peers are cut
off), so two 200s at once are two nodes that would both accept writes. The sampler asks every node
every `every_s` seconds, concurrently, and records a `leaders` event whenever the set changes (and
once at the start), so the history stays small and the checker sees every transition to within
one period.
"""

from __future__ import annotations

import contextlib
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Protocol

from drills.stack.postgres import REST_PORT

if TYPE_CHECKING:
    from drills.history import Event
    from drills.stack.definition import RoleMap
    from drills.stack.env import StackSettings
    from drills.stack.services import ServiceInfo

EVENT = "leaders"


class Snapshots(Protocol):
    @property
    def settings(self) -> StackSettings: ...

    def snapshot(self) -> dict[str, ServiceInfo]: ...


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


class LeaderSampler:
    def __init__(self, stack: Snapshots, record: Callable[..., Event], now: Callable[[], float], *,
                 every_s: float = 0.25, timeout_s: float = 0.5) -> None:
        self.stack, self.record, self.now = stack, record, now
        self.every_s, self.timeout_s = every_s, timeout_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="leader-sampler", daemon=True)
        self.samples = 0

    def start(self) -> LeaderSampler:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        last: list[str] | None = None
        ports: dict[str, int] = {}
        with ThreadPoolExecutor(max_workers=4) as pool:
            while not self._stop.is_set():
                at = self.now()
                # Containers come and go during a drill (disk loss): look again every round; when
                # the engine is slow to answer, keep the last known ports.
                with contextlib.suppress(Exception):
                    ports = rest_ports(self.stack.snapshot(), self.stack.settings.roles,
                                       self.stack.settings.definition.postgres().rest_port
                                       if self.stack.settings.definition else REST_PORT)
                claims = dict(zip(ports, pool.map(lambda p: claims_leadership(p, self.timeout_s), ports.values()),
                                  strict=True))
                leaders = sorted(name for name, yes in claims.items() if yes)
                self.samples += 1
                if leaders != last:
                    self.record(EVENT, at, component="postgres", leaders=leaders, asked=sorted(ports))
                    last = leaders
                self._stop.wait(max(0.0, self.every_s - (self.now() - at)))
            self.record(EVENT, self.now(), component="postgres", leaders=last or [], asked=sorted(ports), final=True)
