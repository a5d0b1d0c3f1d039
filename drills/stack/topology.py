"""Who is who right now: role names (see `drills.core.roles`) -> services of a live stack.

Static roles come from the compose services; leaders and primaries are asked of the systems
themselves at the moment of the call: Patroni's view of the DCS, RabbitMQ's queue leader, the
replica set's status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

from drills.components import _mongo_effective, _rabbitmq_effective
from drills.components import _mongo_status as mongo
from drills.components import _postgres_cluster as postgres
from drills.components import _rabbitmq_api as rabbitmq
from drills.components._effective_stack import endpoints
from drills.components._postgres_place import placer
from drills.core.dockerlabels import TIER_LABEL
from drills.core.errors import StackError
from drills.core.roles import CLIENTS, RoleRef, parse_role
from drills.stack.definition import StackDefinition
from drills.stack.env import StackSettings
from drills.stack.live import as_logged_in
from drills.stack.roles import pick
from drills.stack.services import ServiceInfo

if TYPE_CHECKING:
    from drills.components.base import Bound, Credential, Live


class StackView(Protocol):
    """What probes need of a stack (implemented by `ComposeProject`)."""

    @property
    def settings(self) -> StackSettings: ...

    @property
    def definition(self) -> StackDefinition: ...

    def snapshot(self) -> dict[str, ServiceInfo]: ...

    def credential(self, ref: Credential) -> str:
        """A password the stack file names, resolved (drills.stack.credentials)."""
    def host_names(self, snap: Mapping[str, ServiceInfo]) -> Mapping[str, tuple[str, ...]]:
        """service -> the names its running container answers to beyond what the snapshot shows
        (its hostname, read by inspect): asked only when a member is matched by nothing else."""
        ...


def members(view: StackView, snap: Mapping[str, ServiceInfo], component: str) -> list[str]:
    """The services of a role (a component, or any role of the stack's map) that have a container."""
    return view.settings.roles.members(component, snap)


def unmatched_text(view: StackView, snap: Mapping[str, ServiceInfo], members: list[postgres.PgMember]) -> str:
    """Which members no service could be matched to, and what to do: start the containers that are
    down (a stopped container has no address to match), else name the services in the stack file."""
    said = ", ".join(f"{m.name} ({', '.join(m.hosts()) or 'no host'})" for m in members)
    down = [s for s in members_of(view, "postgres") if s not in snap or snap[s].state != "running"]
    if down:
        return (f"PostgreSQL members {said} match no running service; not running: {', '.join(down)} (a "
                "container that is down has no address to match: it is matched again once it runs)")
    example = ", ".join(f"{m.name}: <its service>" for m in members)
    return (f"PostgreSQL members {said} match no service by address, service name, hostname or alias: add "
            f"`members: {{{example}}}` under components: postgres: in the stack file "
            f"({view.definition.path})")


def members_of(view: StackView, role: str) -> tuple[str, ...]:
    """The services of a role as the role map says (those without a container too)."""
    return tuple(view.settings.roles.roles.get(role, ()))


def proxy_paths(view: StackView, snap: Mapping[str, ServiceInfo]) -> tuple[postgres.ProxyPath, ...] | None:
    """The proxy the applications reach PostgreSQL through (`components.postgres.access`), one path
    per service of its role, each probed for where a session lands; None: the stack names no proxy
    (the signals connect to every member)."""
    pg = view.definition.postgres()
    if pg.access is None:
        return None
    through, port = pg.access.through, pg.access.port
    services = view.settings.roles.members(through, snap) or list(members_of(view, through))
    found = endpoints(snap, services, port)
    paths = [postgres.ProxyPath(through, s, port, found.get(s)) for s in services]
    app = pg.login("app")
    try:
        password = view.credential(app.password)
    except StackError as exc:
        return tuple(replace(p, error=str(exc)) for p in paths)
    return tuple(postgres.probe_proxy(p, app.user, password, pg.database) for p in paths)


def management(view: StackView, snap: Mapping[str, ServiceInfo]) -> rabbitmq.Management:
    return _rabbitmq_effective.management(view, snap)


def node_managements(view: StackView, snap: Mapping[str, ServiceInfo]) -> dict[str, rabbitmq.Management]:
    """Each running RabbitMQ member's own management API (service -> client): what that node
    answers, not the first node's that does."""
    rabbit = view.definition.rabbitmq()
    eps = endpoints(snap, members(view, snap, "rabbitmq"), rabbit.management_port)
    return {name: rabbitmq.Management([ep], view.settings.secrets.app_password, rabbit.user)
            for name, ep in eps.items()}


def postgres_status(view: StackView, snap: Mapping[str, ServiceInfo]) -> postgres.PostgresStatus:
    """Patroni's view, and replication as the stack file's superuser sees it; a password that
    cannot be read is the status's error (`drill stack status` shows it, readiness waits on it).
    A PostgreSQL another manager runs: what its adapter says (`drills.components`)."""
    bound = view.definition.postgres_bound()
    if bound is not None:
        if bound.adapter.status is None:
            return postgres.PostgresStatus(None, (), (), error=f"{bound.adapter.label}: its adapter reads no status")
        return postgres.from_view(bound.adapter.status(bound.spec, as_logged_in(view, snap)))
    pg = view.definition.legacy_postgres()
    nodes = members(view, snap, "postgres")
    superuser = pg.login("superuser")
    try:
        password = view.credential(superuser.password)
    except StackError as exc:
        return postgres.PostgresStatus(None, (), (), error=str(exc))
    return postgres.read_status(endpoints(snap, nodes, pg.rest_port), endpoints(snap, nodes, pg.sql_port),
                                superuser.user, password, placer(view, snap))


def mongo_status(view: StackView, snap: Mapping[str, ServiceInfo]) -> mongo.MongoStatus:
    return _mongo_effective.replica_set_status(view, snap)


def queue_of(view: StackView, ref: RoleRef) -> str:
    """The queue of `rabbitmq.leader@QUEUE`; without @QUEUE, the stack file's `leader_queue` (else
    its first queue, else the harness's default)."""
    named = ref.selector.partition("@")[2]
    rabbit = view.definition.spec.components.rabbitmq
    if named:
        return named
    if rabbit is not None and (rabbit.leader_queue or rabbit.queues):
        return rabbit.leader_queue or rabbit.queues[0]
    return ref.queue


def _dynamic(view: StackView, snap: Mapping[str, ServiceInfo], ref: RoleRef, group: list[str]) -> list[str]:
    role = ref.base_selector
    if ref.group == "postgres" and (bound := view.definition.postgres_bound()) is not None:
        if bound.adapter.roles is None:
            raise StackError(f"{ref}: {bound.adapter.label} has no dynamic roles")
        return bound.adapter.roles.resolve(bound.spec, as_logged_in(view, snap), role, None, group)
    if ref.group == "postgres":
        rest = endpoints(snap, group, view.definition.legacy_postgres().rest_port)
        cluster = placer(view, snap)(postgres.read_cluster(list(rest.values())))
        leader = postgres.leader_of(cluster)
        if leader is None:
            raise StackError(f"{ref}: PostgreSQL has no single leader right now ({[m.name for m in cluster]})")
        if role == "leader":
            service = postgres.service_of(cluster, leader)
            if service is None:
                raise StackError(f"{ref}: {unmatched_text(view, snap, [m for m in cluster if m.name == leader])}")
            return [service]
        # A replica no service was matched to is one Drills cannot act on (readiness names it).
        return [m.service for m in cluster if m.name != leader and m.service is not None and m.service in group]
    if ref.group == "rabbitmq":
        # A classic queue is led by the node it lives on and has no follower (rabbitmq.parse_queues).
        name = queue_of(view, ref)
        queue = next((q for q in management(view, snap).queues() if q.name == name), None)
        if queue is None or queue.leader is None:
            raise StackError(f"{ref}: queue {name!r} has no leader right now")
        nodes = [queue.leader] if role == "leader" else queue.followers()
        return [rabbitmq.node_service(n) for n in nodes]
    if ref.group == "mongo":
        status = mongo_status(view, snap)
        if status.error is not None:
            raise StackError(f"{ref}: {status.error}")
        wanted = "PRIMARY" if role == "primary" else "SECONDARY"
        return [m.service for m in status.members if m.state == wanted and m.service]
    raise StackError(f"{ref}: no dynamic roles for {ref.group}")


def resolve(view: StackView, role: str | RoleRef) -> list[str]:
    """The services that have `role` now (possibly none); StackError when the system cannot say."""
    ref = role if isinstance(role, RoleRef) else parse_role(role)
    snap = view.snapshot()
    if ref.group == CLIENTS:
        return pick(ref, [s.service for s in snap.values() if s.labels.get(TIER_LABEL) == "app"])
    group = members(view, snap, ref.group)
    if not ref.dynamic or not group:
        return pick(ref, group)
    try:
        return pick(ref, _dynamic(view, snap, ref, group))
    except OSError as exc:
        raise StackError(f"cannot resolve {ref}: {exc}") from exc


def app_queues(view: StackView) -> tuple[str, ...]:
    """The queues the stack file says its application declares (`components.rabbitmq.queues`):
    none when it names none, whatever the reference stack's are."""
    rabbit = view.definition.spec.components.rabbitmq
    return tuple(rabbit.queues) if rabbit is not None else ()


class Legacy:
    """What the readiness of the kinds whose adapters have not moved in yet reads of a stack
    (`drills.components._legacy_ready.LegacyStack`), from the reads above."""

    def __init__(self, view: StackView) -> None:
        self.view = view

    def snapshot(self) -> dict[str, ServiceInfo]:
        return self.view.snapshot()

    def members(self, snap: Mapping[str, ServiceInfo], group: str) -> list[str]:
        return members(self.view, snap, group)

    def live(self, snap: Mapping[str, ServiceInfo]) -> Live:
        return as_logged_in(self.view, snap)

    def postgres_bound(self) -> Bound[Any] | None:
        return self.view.definition.postgres_bound()

    def postgres_status(self, snap: Mapping[str, ServiceInfo]) -> postgres.PostgresStatus:
        return postgres_status(self.view, snap)

    def unmatched_text(self, snap: Mapping[str, ServiceInfo], members: list[postgres.PgMember]) -> str:
        return unmatched_text(self.view, snap, members)

    def postgres_through(self) -> str | None:
        access = self.view.definition.postgres().access
        return access.through if access is not None else None

    def proxy_paths(self, snap: Mapping[str, ServiceInfo]) -> tuple[postgres.ProxyPath, ...] | None:
        return proxy_paths(self.view, snap)

    def app_queues(self) -> tuple[str, ...]:
        return app_queues(self.view)

    def management(self, snap: Mapping[str, ServiceInfo]) -> rabbitmq.Management:
        return management(self.view, snap)

    def management_endpoints(self, snap: Mapping[str, ServiceInfo], nodes: list[str]) -> dict[str, tuple[str, int]]:
        return endpoints(snap, nodes, self.view.definition.rabbitmq().management_port)

    def mongo_status(self, snap: Mapping[str, ServiceInfo]) -> mongo.MongoStatus:
        return mongo_status(self.view, snap)
