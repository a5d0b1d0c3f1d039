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
from drills.components._mongo_status import MongoStatus
from drills.components._postgres_cluster import PostgresStatus, ProxyPath
from drills.components._rabbitmq_api import RabbitStatus
from drills.components.base import StatusView
from drills.core.effective_config import EffectiveConfig
from drills.stack.effective import read_effective
from drills.stack.effective_sources import EffectiveStack
from drills.stack.effective_text import every_part
from drills.stack.env import StackSettings
from drills.stack.live import as_live
from drills.stack.loadbalancer import LoadBalancerStatus, read_status
from drills.stack.services import ServiceInfo
from drills.stack.topology import management, mongo_status, postgres_status, proxy_paths


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
    postgres: PostgresStatus
    rabbitmq: RabbitStatus
    mongo: MongoStatus
    lb: LoadBalancerStatus
    effective: EffectiveConfig
    missing: tuple[str, ...] = ()  # services Compose defines that have no container
    postgres_nodes: tuple[str, ...] = ()  # the services of the postgres role (from the stack's role map)
    stack: str = ""  # the stack file's name
    compose_files: tuple[str, ...] = ()  # in -f order, overrides last
    roles: dict[str, list[str]] = field(default_factory=dict)
    # The proxy the applications reach PostgreSQL through, each of its services with where a session
    # through it lands; None: the stack names none (its clients connect to every member).
    postgres_access: tuple[ProxyPath, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        for s in doc["services"]:
            s["ports"] = {str(k): v for k, v in s["ports"].items()}
        doc["effective"] = every_part(self.effective).to_json()  # every part, as the words show them
        return doc

    def views(self) -> list[StatusView]:
        """Each component as `drill stack status` draws it, in its order (the kinds whose adapters
        have not moved in yet through `drills.components._legacy_status`)."""
        shown = [legacy.postgres(self.postgres, self.postgres_nodes),
                 legacy.postgres_access(self.postgres_access, self.postgres_nodes), balancer_view(self.lb)]
        rabbit, mongo = self.rabbitmq, self.mongo
        shown.append(legacy.not_in_stack("rabbitmq") if self.not_in_stack("rabbitmq") else legacy.rabbitmq(rabbit))
        shown.append(legacy.not_in_stack("mongo") if self.not_in_stack("mongo") else legacy.mongo(mongo))
        return shown

    @property
    def shows_effective(self) -> bool:
        """Whether `drill stack status` draws the effective configuration: as it always has, not for
        a stack drilled without a MongoDB role (the text drew it under MongoDB's table)."""
        return not self.not_in_stack("mongo")

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
    return legacy.left_out({"mongo": settings.not_run("mongo")})


def service_health(snap: dict[str, ServiceInfo]) -> tuple[ServiceHealth, ...]:
    return tuple(ServiceHealth(s.service, s.name, s.state, s.health, dict(s.ports)) for s in snap.values())


def collect(view: EffectiveStack, missing: tuple[str, ...] = (), subnet: str | None = None) -> StackStatus:
    """`subnet`: the stack network's as the engine holds it (default: the settings')."""
    snap = view.snapshot()
    with ThreadPoolExecutor(max_workers=6) as pool:
        pg = pool.submit(postgres_status, view, snap)
        rabbit = pool.submit(lambda: management(view, snap).status())
        mongo = pool.submit(mongo_status, view, snap)
        lb = pool.submit(read_status, snap, view.definition.spec.components.http, live=as_live(view, snap))
        effective = pool.submit(read_effective, view)
        access = pool.submit(proxy_paths, view, snap)
        return StackStatus(view.settings.project, subnet or str(view.settings.subnet), service_health(snap),
                           pg.result(), rabbit.result(), mongo.result(), lb.result(), effective.result(), missing,
                           tuple(view.settings.roles.roles.get("postgres", ())), view.definition.name,
                           tuple(str(f) for f in view.definition.compose_files()), view.settings.roles.to_json(),
                           access.result())
