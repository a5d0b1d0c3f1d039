"""`drill stack status` of the kinds whose adapters have not moved in yet (PostgreSQL under Patroni,
RabbitMQ, MongoDB): today's reads (`_postgres_cluster`, `_rabbitmq_api`, `_mongo_status`) drawn as
`StatusView`s, which `drill stack status` draws like any adapter's (plans/components-protocol.md,
B2). Each kind's lane moves its builder into its adapter and deletes it here.

The views' texts are rich markup, as the renderer has always printed them (colour says what is
wrong); `data` is what `--json` shows, unchanged: `drills.stack.status.StackStatus.to_json` still
writes the statuses themselves, under their old keys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict

from drills.components._mongo_status import MongoStatus
from drills.components._postgres_cluster import PostgresStatus, ProxyPath
from drills.components._rabbitmq_api import RabbitStatus
from drills.components.base import StatusView

# The role each legacy kind's services play: a stack drilled without it says so instead of a table.
ROLES = {"rabbitmq": ("rabbitmq", "RabbitMQ"), "mongo": ("mongo", "MongoDB")}


def not_in_stack(kind: str) -> StatusView:
    role, label = ROLES[kind]
    return StatusView(title="", notes=(f"{label}: not in this stack (no {role} role)",))


def postgres(pg: PostgresStatus, nodes: Sequence[str]) -> StatusView:
    """Patroni's members, each with its service and how it streams; `nodes`: the services of the
    role, those the cluster does not list shown as not in it."""
    streams = {r.name: r for r in pg.replication}
    leader = f"{pg.leader} ({pg.leader_service})" if pg.leader_service not in (None, pg.leader) else pg.leader
    rows = []
    for m in pg.members:
        r = streams.get(m.name)
        lag_s = f"{r.replay_lag_s:.3f}" if r and r.replay_lag_s is not None else "-"
        replication = r.state if r else ("-" if m.role == "leader" else "[red]not streaming[/]")
        service = m.service or f"[red]unmatched ({', '.join(m.hosts()) or 'no host'})[/]"
        rows.append((m.name, service, m.role, m.state, replication, str(r.replay_lag_bytes) if r else "-", lag_s))
    listed = {m.service for m in pg.members}
    for name in nodes:
        if name not in listed:  # cut off, killed or not yet registered: Patroni does not list it
            rows.append(("-", name, "-", "[red]not in the cluster[/]", "-", "-", "-"))
    notes = []
    if pg.unmatched():
        notes.append("[red]PostgreSQL: members no service was matched to: "
                     f"{', '.join(m.name for m in pg.unmatched())}; if their containers run, name their services "
                     "under components: postgres: members: in the stack file[/]")
    if pg.error:
        notes.append(f"[red]PostgreSQL: {pg.error}[/]")
    return StatusView(title=f"PostgreSQL: leader {leader or '[red]none[/]'}",
                      columns=("member", "service", "role", "patroni state", "replication", "replay lag (bytes)",
                               "replay lag (s)"),
                      rows=tuple(rows), notes=tuple(notes), error=pg.error, data=asdict(pg))


def postgres_access(paths: Sequence[ProxyPath] | None, nodes: Sequence[str]) -> StatusView:
    """The path the applications (and the postgres.* signals) take to PostgreSQL, and where it lands."""
    notes = []
    if paths is None:
        if nodes:
            notes.append("PostgreSQL access: every member directly (libpq multi-host, read-write)")
    elif not paths:
        notes.append("[red]PostgreSQL access: no service plays the proxy's role (components.postgres.access)[/]")
    for path in paths or ():
        problem = path.problem()
        reached = f"{path.endpoint[0]}:{path.endpoint[1]}" if path.endpoint else "not reachable from the host"
        said = f"[red]{problem}[/]" if problem else "[green]reaches the leader[/]"
        notes.append(f"PostgreSQL access: through {path.where}, {reached}: {said}")
    return StatusView(title="", notes=tuple(notes))


def rabbitmq(rq: RabbitStatus) -> StatusView:
    down = [n.service for n in rq.nodes if not n.running]
    title = f"RabbitMQ: {len(rq.running())}/{len(rq.nodes)} members running"
    rows = tuple((q.name, q.type, q.leader or "[red]none[/]", f"{len(q.online)}/{len(q.members)}",
                  "-" if q.messages is None else str(q.messages)) for q in rq.queues)
    return StatusView(title=title + (f" ([red]down: {', '.join(down)}[/])" if down else ""),
                      columns=("queue", "type", "leader", "members online", "messages"), rows=rows,
                      notes=(f"[red]RabbitMQ: {rq.error}[/]",) if rq.error else (), error=rq.error,
                      data=asdict(rq))


def mongo(mg: MongoStatus) -> StatusView:
    if not mg.ran:
        return StatusView(title="", notes=(f"MongoDB: [yellow]{mg.error}[/]",), data=asdict(mg))
    rows = tuple((mm.host, mm.service or "?", mm.state, "-" if mm.lag_s is None else f"{mm.lag_s:.1f}")
                 for mm in mg.members)
    return StatusView(title=f"MongoDB: primary {mg.primary or '[red]none[/]'}",
                      columns=("member", "service", "state", "lag (s)"), rows=rows,
                      notes=(f"[red]MongoDB: {mg.error}[/]",) if mg.error else (), error=mg.error, data=asdict(mg))


def left_out(reasons: Mapping[str, str | None]) -> list[str]:
    """What `drill stack up` says of the optional parts it did not run (kind -> why, None: it ran)."""
    labels = {"mongo": "MongoDB"}
    return [f"{labels.get(kind, kind)} not run: {why}" for kind, why in reasons.items() if why]
