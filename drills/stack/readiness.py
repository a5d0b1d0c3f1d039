"""When the stack is ready: one wait per component, run side by side.

"Ready" is what a drill's steady state needs, stronger than Docker's healthchecks: a PostgreSQL
leader with every other node *streaming* from it, every RabbitMQ member running and the app's
queues declared (by the app) with a leader, a MongoDB primary with every other member a healthy
SECONDARY; plus Docker's own health for every container that has a healthcheck. Probes are HTTP
calls and one SQL query on published ports, polled every 0.5-1 s: cheap enough not to slow the
boot they watch (two cores, ten containers).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from drills.components import _rabbitmq_api as rabbitmq
from drills.components._mongo_status import MongoStatus
from drills.components._postgres_cluster import ProxyPath
from drills.core.wait import Observation, Wait, run_all
from drills.stack.live import as_logged_in
from drills.stack.services import ServiceInfo
from drills.stack.topology import (
    StackView,
    endpoints,
    management,
    members,
    mongo_status,
    postgres_status,
    proxy_paths,
    unmatched_text,
)

ONE_SHOT = frozenset({"mongo-init"})  # services that run to completion (exit 0 = success)


def postgres_ready(view: StackView) -> Observation:
    """A leader with every other node streaming from it, every member of Patroni's placed on a
    service, and, where the stack names the proxy its applications use (`access`), a session
    through that proxy landing on the leader. A PostgreSQL another manager runs: its adapter's
    readiness (`drills.components`), held back by the proxy in the same way."""
    snap = view.snapshot()
    bound = view.definition.postgres_bound()
    if bound is not None:
        if bound.adapter.ready is None:
            return Observation(False, f"{bound.adapter.label}: its adapter has no readiness")
        managed = bound.adapter.ready(bound.spec, as_logged_in(view, snap), False)
        if not managed.ready or bound.spec.access is None:
            return managed
        return through_proxy(managed, bound.spec.access.through, proxy_paths(view, snap) or ())
    nodes = members(view, snap, "postgres")
    status = postgres_status(view, snap)
    if status.error is not None:
        return Observation(False, status.error)
    if status.unmatched():
        return Observation(False, unmatched_text(view, snap, status.unmatched()))
    streaming = status.streaming()
    wanted = len(nodes) - 1
    detail = f"leader {_named(status.leader, status.leader_service)}, streaming: {', '.join(streaming) or 'none'}"
    cluster = Observation(status.leader is not None and len(streaming) >= wanted, detail)
    access = view.definition.postgres().access
    if not cluster.ready or access is None:
        return cluster
    return through_proxy(cluster, access.through, proxy_paths(view, snap) or ())


def _named(member: str | None, service: str | None) -> str:
    return f"{member} ({service})" if member and service and service != member else str(member)


def through_proxy(cluster: Observation, through: str, paths: Sequence[ProxyPath]) -> Observation:
    """The cluster's readiness (`cluster`), held back until every service of the applications'
    proxy (the role `through`) sends a session to the leader: a proxy whose health check picks a
    replica, or that refuses connections, is a stack its applications cannot write to, whatever
    Patroni says."""
    if not paths:
        return Observation(False, f"{cluster.detail}; no service plays {through}, the proxy "
                                  "components.postgres.access names")
    problems = [p for p in (path.problem() for path in paths) if p]
    if problems:
        return Observation(False, f"{cluster.detail}; " + "; ".join(problems))
    return Observation(cluster.ready, f"{cluster.detail}; through {', '.join(p.where for p in paths)}: the leader")


class RabbitReady:
    """Every member booted and in the cluster, then each of `queues` declared and led.

    The stack's application declares its queues, never Drills (this only reads them, through the
    management API): the app declares a missing queue once every member has *finished booting*,
    by each node's own answer, because `/api/nodes` lists a node as running while it is still
    loading its tables and a quorum queue declared then can lose its Raft cluster (see
    drills.components._rabbitmq_api). `full_membership` (at boot) also wants each quorum queue to have a
    live member on every node: a drill on a queue with fewer members would test something else.
    After a fault (a drill's recovery) a live leader is enough: re-growing members is the resync
    checker's business. A classic queue is ready while its node serves it."""

    def __init__(self, view: StackView, *, queues: Sequence[str], full_membership: bool = False) -> None:
        self.view = view
        self.queues = tuple(queues)
        self.full_membership = full_membership

    def __call__(self) -> Observation:
        snap = self.view.snapshot()
        nodes = members(self.view, snap, "rabbitmq")
        api = management(self.view, snap)
        eps = endpoints(snap, nodes, self.view.definition.rabbitmq().management_port)
        waiting = [f"{s} not running" if s not in eps else f"{s} booting" for s in nodes
                   if s not in eps or api.node_booted(eps[s]) is not None]
        if waiting:
            return Observation(False, "waiting for " + ", ".join(waiting))
        running = [n.name for n in api.nodes() if n.running]
        if len(running) < len(nodes):
            return Observation(False, f"running: {', '.join(running) or 'none'}")
        queues = {q.name: q for q in api.queues()}
        problems = {}
        for name in self.queues:
            q = queues.get(name)
            problem = rabbitmq.queue_problem(q, running) if self.full_membership else rabbitmq.leader_problem(q)
            if problem:
                problems[name] = problem if q is not None else "not declared (yet) by the application"
        leaders = {name: queues[name].leader if name in queues else None for name in self.queues}
        detail = f"{len(running)} running; queue leaders: {leaders}"
        if problems:
            detail += "; " + "; ".join(f"{name}: {why}" for name, why in problems.items())
        return Observation(not problems, detail)


def mongo_ready(view: StackView) -> Observation:
    snap = view.snapshot()
    init = snap.get("mongo-init")
    if init is not None and init.state != "exited":
        return Observation(False, "mongo-init still initiating the replica set")
    if init is not None and init.exit_code != 0:
        return Observation(False, f"mongo-init failed: {init.status}")
    return mongo_in_sync(mongo_status(view, snap), len(members(view, snap, "mongo")))


def mongo_in_sync(status: MongoStatus, wanted: int) -> Observation:
    """A primary, and every member of the set healthy as PRIMARY or SECONDARY: a member still in
    initial sync (STARTUP2) or catching up (RECOVERING) is not back yet; the resync verdict of the
    MongoDB drills is read from this wait, so "a primary exists" alone would pass it at once."""
    if status.error is not None:
        return Observation(False, status.error)
    synced = [m for m in status.members if m.healthy and m.state in ("PRIMARY", "SECONDARY")]
    others = [f"{m.service or m.host} {m.state}" for m in status.members if m not in synced]
    detail = f"primary {status.primary}, {len(synced)}/{wanted} in sync" + (f"; {', '.join(others)}" if others else "")
    return Observation(status.primary is not None and len(synced) >= wanted, detail)


def containers_healthy(snap: Mapping[str, ServiceInfo]) -> Observation:
    waiting = []
    for s in snap.values():
        if s.service in ONE_SHOT:
            if s.state == "exited" and s.exit_code not in (0, None):
                waiting.append(f"{s.service} exited {s.exit_code}")
            continue
        if s.state != "running":
            waiting.append(f"{s.service} {s.state}")
        elif s.health not in (None, "healthy"):
            waiting.append(f"{s.service} {s.health}")
    if not snap:  # nothing found is never healthy
        return Observation(False, "no container of the stack exists")
    if waiting:
        return Observation(False, "waiting for " + ", ".join(waiting))
    return Observation(True, f"all {len(snap)} containers healthy")


def app_queues(view: StackView) -> tuple[str, ...]:
    """The queues the stack file says its application declares (`components.rabbitmq.queues`):
    none when it names none, whatever the reference stack's are."""
    rabbit = view.definition.spec.components.rabbitmq
    return tuple(rabbit.queues) if rabbit is not None else ()


def ready_waits(view: StackView, timeout_s: float = 120.0, *, boot: bool = False,
                queues: Sequence[str] | None = None) -> list[Wait]:
    """`boot`: the stack was just created (stricter about RabbitMQ's queues, see RabbitReady).
    `queues`: the RabbitMQ queues the stack's application declares (default: its stack file's)."""
    snap = view.snapshot()
    # One wait per component the stack has: a stack without RabbitMQ (PostgreSQL only) is ready
    # without it. Membership comes from the role map, so a component whose services all failed to
    # start is still waited for (and reported), never skipped.
    defined = view.settings.roles.roles
    waits = [Wait("containers healthy", lambda: containers_healthy(view.snapshot()), timeout_s, 1.0)]
    if members(view, snap, "postgres") or defined.get("postgres"):
        waits.append(Wait("postgres", lambda: postgres_ready(view), timeout_s, 0.5))
    if members(view, snap, "rabbitmq") or defined.get("rabbitmq"):
        wanted = app_queues(view) if queues is None else queues
        waits.append(Wait("rabbitmq", RabbitReady(view, queues=wanted, full_membership=boot), timeout_s, 1.0))
    if members(view, snap, "mongo"):
        waits.append(Wait("mongo", lambda: mongo_ready(view), timeout_s, 1.0))
    return waits


def wait_ready(view: StackView, *, since: float | None = None, timeout_s: float = 120.0,
               boot: bool = False) -> dict[str, float]:
    """Seconds from `since` (default now) until each component was ready; WaitTimeout otherwise."""
    return run_all(ready_waits(view, timeout_s, boot=boot), since=since if since is not None else time.monotonic())

