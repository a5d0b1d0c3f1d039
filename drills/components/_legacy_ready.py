"""Readiness of the kinds whose adapters have not moved in yet (PostgreSQL under Patroni, RabbitMQ,
MongoDB), and the wait rules `drills.stack.readiness` keeps for them (plans/components-protocol.md,
B2): each kind's lane moves its readiness into its adapter's `ready` and deletes its entry here.

"Ready" is what a drill's steady state needs, stronger than Docker's healthchecks: a PostgreSQL
leader with every other node *streaming* from it, every RabbitMQ member running and the app's
queues declared (by the app) with a leader, a MongoDB primary with every other member a healthy
SECONDARY. What they read of a stack is `drills.components._legacy_stack.LegacyStack`
(`drills.stack.topology.Legacy` over a view of the stack), so this layer stays below the stack's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from drills.components import _mongo_topology, _patroni_topology, _rabbitmq_topology
from drills.components._legacy_stack import LegacyStack
from drills.components._mongo_status import MongoStatus
from drills.components._postgres_cluster import ProxyPath
from drills.components._postgres_spec import PostgresBase
from drills.components._rabbitmq_api import leader_problem, queue_problem
from drills.core.wait import Observation

MONGO_INIT = "mongo-init"  # the reference stack's one-shot that initiates the replica set
ONE_SHOT = frozenset({MONGO_INIT})  # services that run to completion (exit 0 = success)


def postgres_ready(stack: LegacyStack) -> Observation:
    """A leader with every other node streaming from it, every member of Patroni's placed on a
    service, and, where the stack names the proxy its applications use (`access`), a session
    through that proxy landing on the leader. A PostgreSQL another manager runs: its adapter's
    readiness (`drills.components`), held back by the proxy in the same way."""
    snap = stack.snapshot()
    bound = stack.definition.bound().get("postgres")
    if bound is not None:
        if bound.adapter.ready is None:
            return Observation(False, f"{bound.adapter.label}: its adapter has no readiness")
        managed = bound.adapter.ready(bound.spec, stack.live(snap), False)
        if not managed.ready or bound.spec.access is None:
            return managed
        return through_proxy(managed, bound.spec.access.through, _patroni_topology.proxy_paths(stack, snap) or ())
    nodes = stack.members(snap, "postgres")
    status = _patroni_topology.read_status(stack, snap)
    if status.error is not None:
        return Observation(False, status.error)
    if status.unmatched():
        return Observation(False, _patroni_topology.unmatched_text(stack, snap, status.unmatched()))
    streaming = status.streaming()
    wanted = len(nodes) - 1
    detail = f"leader {_named(status.leader, status.leader_service)}, streaming: {', '.join(streaming) or 'none'}"
    cluster = Observation(status.leader is not None and len(streaming) >= wanted, detail)
    access = stack.definition.component("postgres", PostgresBase).access
    if not cluster.ready or access is None:
        return cluster
    return through_proxy(cluster, access.through, _patroni_topology.proxy_paths(stack, snap) or ())


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

    def __init__(self, stack: LegacyStack, *, queues: Sequence[str], full_membership: bool = False) -> None:
        self.stack = stack
        self.queues = tuple(queues)
        self.full_membership = full_membership

    def __call__(self) -> Observation:
        snap = self.stack.snapshot()
        nodes = self.stack.members(snap, "rabbitmq")
        api = _rabbitmq_topology.management(self.stack, snap)
        eps = _rabbitmq_topology.management_endpoints(self.stack, snap, nodes)
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
            problem = queue_problem(q, running) if self.full_membership else leader_problem(q)
            if problem:
                problems[name] = problem if q is not None else "not declared (yet) by the application"
        leaders = {name: queues[name].leader if name in queues else None for name in self.queues}
        detail = f"{len(running)} running; queue leaders: {leaders}"
        if problems:
            detail += "; " + "; ".join(f"{name}: {why}" for name, why in problems.items())
        return Observation(not problems, detail)


def mongo_ready(stack: LegacyStack) -> Observation:
    snap = stack.snapshot()
    init = snap.get(MONGO_INIT)
    if init is not None and init.state != "exited":
        return Observation(False, "mongo-init still initiating the replica set")
    if init is not None and init.exit_code != 0:
        return Observation(False, f"mongo-init failed: {init.status}")
    return mongo_in_sync(_mongo_topology.read_status(stack, snap), len(stack.members(snap, "mongo")))


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


@dataclass(frozen=True)
class LegacyReady:
    """How a legacy kind is waited for."""

    every_s: float
    # Waited for when the role map defines the role, even if none of its services has a container
    # (a component whose services all failed to start is reported, never skipped); else only when
    # some member exists (MongoDB, left out when its image is not here).
    when_defined: bool
    # (stack, boot, the queues the application declares or None: the stack file's) -> the check
    check: Callable[[LegacyStack, bool, Sequence[str] | None], Callable[[], Observation]]


def _postgres(stack: LegacyStack, boot: bool, queues: Sequence[str] | None) -> Callable[[], Observation]:
    return lambda: postgres_ready(stack)


def _rabbitmq(stack: LegacyStack, boot: bool, queues: Sequence[str] | None) -> Callable[[], Observation]:
    declared = _rabbitmq_topology.app_queues(stack) if queues is None else queues
    return RabbitReady(stack, queues=declared, full_membership=boot)


def _mongo(stack: LegacyStack, boot: bool, queues: Sequence[str] | None) -> Callable[[], Observation]:
    return lambda: mongo_ready(stack)


# In the order the waits are listed; one statement per kind, for the lanes to delete apart.
READY: dict[str, LegacyReady] = {}
READY["postgres"] = LegacyReady(0.5, True, _postgres)
READY["rabbitmq"] = LegacyReady(1.0, True, _rabbitmq)
READY["mongo"] = LegacyReady(1.0, False, _mongo)
