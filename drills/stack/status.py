"""A stack's status: every service's container state and health, and each component's topology
(PostgreSQL leader and replica lag, each Patroni member's service, and where a session through
the proxy the applications use lands; RabbitMQ members and queue leaders, MongoDB primary, the
dashboards the load balancer sends users to), and the effective configuration (drills.stack.effective). Read
concurrently, each part failing on its own: a status during a fault is exactly when some parts
cannot be read, and that is reported, never hidden."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from drills.components import _legacy_status as legacy
from drills.components import registry
from drills.components.base import StatusView
from drills.core.effective_config import EffectiveConfig
from drills.stack.effective import read_effective
from drills.stack.effective_sources import EffectiveStack
from drills.stack.effective_text import every_part
from drills.stack.env import StackSettings
from drills.stack.live import as_live
from drills.stack.loadbalancer import LoadBalancerStatus, read_status
from drills.stack.services import ServiceInfo
from drills.stack.topology import Legacy


@dataclass(frozen=True)
class ServiceHealth:
    service: str
    container: str
    state: str
    health: str | None
    ports: dict[int, int]


@dataclass(frozen=True)
class StackStatus:
    project: str
    subnet: str
    services: tuple[ServiceHealth, ...]
    # What each kind's status reads returned, by the key `--json` writes it under
    # (drills.components.registry.LEGACY_STATUS: a kind's topology, its role's services, ...).
    components: dict[str, Any]
    lb: LoadBalancerStatus
    effective: EffectiveConfig
    missing: tuple[str, ...] = ()  # services Compose defines that have no container
    stack: str = ""  # the stack file's name
    compose_files: tuple[str, ...] = ()  # in -f order, overrides last
    roles: dict[str, list[str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        for s in doc["services"]:
            s["ports"] = {str(k): v for k, v in s["ports"].items()}
        doc |= doc.pop("components")
        doc["effective"] = every_part(self.effective).to_json()  # every part, as the words show them
        return registry.status_layout(doc)

    def views(self) -> list[StatusView]:
        """Each component as `drill stack status` draws it, in its order (the kinds whose adapters
        have not moved in yet through `drills.components._legacy_status`), the balancer among them."""
        kinds = registry.LEGACY_STATUS.items()
        return [*(v for kind, entry in kinds if entry.above_balancer for v in self._views(kind, entry)),
                balancer_view(self.lb),
                *(v for kind, entry in kinds if not entry.above_balancer for v in self._views(kind, entry))]

    def _views(self, kind: str, entry: registry.LegacyStatus) -> tuple[StatusView, ...]:
        if entry.role is not None and self.not_in_stack(entry.role):
            return (legacy.not_in_stack(kind),)
        return entry.views(self.components)

    @property
    def shows_effective(self) -> bool:
        """Whether `drill stack status` draws the effective configuration: as it always has, not for
        a stack drilled without the role of the kind it was drawn under."""
        return not any(entry.holds_effective and entry.role is not None and self.not_in_stack(entry.role)
                       for entry in registry.LEGACY_STATUS.values())

    def not_in_stack(self, role: str) -> bool:
        """The stack drilled has no such role at all (not one left out for want of its image, which
        keeps its role and says why it did not run)."""
        return bool(self.stack) and not self.roles.get(role)


def balancer_view(lb: LoadBalancerStatus) -> StatusView:
    """The balancer's line: which instances it sends users to, or its adapter's own words."""
    if lb.error:
        line = f"[red]Load balancer: {lb.error}[/]"
    elif lb.summary:  # a balancer that keeps no health state says so, in its adapter's words
        line = f"Load balancer: {lb.summary}"
    else:
        shown = ", ".join(f"{b.server} [{'green' if b.up else 'red'}]{b.status}[/]" for b in lb.backends)
        line = f"Load balancer: {len(lb.up())}/{len(lb.backends)} dashboards in rotation ({shown})"
    return StatusView(title="", notes=(line,), error=lb.error)


def left_out(settings: StackSettings) -> list[str]:
    """What `drill stack up` says of the optional parts of the stack it did not run, and why."""
    return registry.left_out(settings)


def service_health(snap: dict[str, ServiceInfo]) -> tuple[ServiceHealth, ...]:
    return tuple(ServiceHealth(s.service, s.name, s.state, s.health, dict(s.ports)) for s in snap.values())


def collect(view: EffectiveStack, missing: tuple[str, ...] = (), subnet: str | None = None) -> StackStatus:
    """`subnet`: the stack network's as the engine holds it (default: the settings')."""
    snap = view.snapshot()
    stack = Legacy(view)
    reads = {key: read for entry in registry.LEGACY_STATUS.values() for key, read in entry.reads.items()}
    with ThreadPoolExecutor(max_workers=len(reads) + 2) as pool:  # every read at once, each on its own
        read = {key: pool.submit(reader, stack, snap) for key, reader in reads.items()}
        lb = pool.submit(read_status, snap, view.definition.spec.components.http, live=as_live(view, snap))
        effective = pool.submit(read_effective, view)
        return StackStatus(view.settings.project, subnet or str(view.settings.subnet), service_health(snap),
                           {key: value.result() for key, value in read.items()}, lb.result(), effective.result(),
                           missing, view.definition.name, tuple(str(f) for f in view.definition.compose_files()),
                           view.settings.roles.to_json())
