"""PostgreSQL whose failover repmgr manages (repmgrd): `components.postgres` with `adapter: repmgr`.

repmgr keeps no lease in a DCS: each node says for itself whether it is a primary, and repmgrd on
the standbys promotes one of them once the primary has not answered `reconnect_attempts` x
`reconnect_interval`. So what Drills asks is each member's own answer, over SQL, as the stack
file's superuser:

- who leads: `SELECT pg_is_in_recovery()` on every member (the roles `postgres.leader`, exactly
  one primary, else no single leader; `postgres.replica`, the members in recovery), and the
  leader sampler's claims (`NOT pg_is_in_recovery()`, each member apart: two primaries at once
  are a split brain, never folded into one);
- names and upstreams: `repmgr.nodes` in the repmgr database, read on the primary; each node is
  placed on a service by its conninfo's `host=` (then the stack file's `members:`, then its name);
- who streams: the primary's `pg_stat_replication` (application_name is repmgr's node name);
- the effective configuration: each member's repmgr.conf (`cat` in its container: repmgrd reads
  no setting from the database) and PostgreSQL's `pg_settings` on the primary;
- repmgrd's log lines (promotion, a node now primary, an upstream not reached, a follow).

What it has not: a restore of a total failure. A new cluster from a dump or a snapshot needs the
stack's own bootstrap (`repmgr primary register`, then every standby cloned and registered again),
which Drills cannot run for an image it did not write; the adapter declares no backup method, so a
restore drill on such a stack is NOT RUN with that reason rather than ending in ERROR.

psycopg and the docker client are imported inside the functions: reading the registry loads neither.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from typing import Any, Literal

from pydantic import Field

from drills.components import _repmgr
from drills.components._pg_settings import PG_SETTINGS, PG_SETTINGS_SQL, PG_STATE_SETTINGS, parse_pg_settings
from drills.components._postgres_spec import PostgresBase
from drills.components.base import (
    Adapter,
    Effective,
    Leaders,
    Live,
    LogPattern,
    Name,
    Reading,
    Roles,
    StatusView,
)
from drills.core.effective_config import READ, Fact, Part, absent, not_read
from drills.core.errors import StackError
from drills.core.wait import Observation

NAME = "repmgr"
GROUP = "postgres"  # the role group of the members (the stack file's roles:)
NO_RESTORE = f"adapter {NAME} has no restore of a total failure"
TIMEOUT_S = 2


class RepmgrSpec(PostgresBase):
    """PostgreSQL with automatic failover by repmgrd (repmgr 5.x)."""

    adapter: Literal["repmgr"] = Field("repmgr", description="How Drills asks who leads: each member's own answer "
                                                             "over SQL "
                                                   "(pg_is_in_recovery), names from repmgr.nodes.")
    repmgr_db: Name = Field("repmgr", description="The database holding repmgr's tables (repmgr.nodes).")
    config: str = Field("/etc/repmgr.conf", pattern=r"^/", description="repmgr.conf inside the members' "
                                                                      "containers (read for the effective "
                                                                      "configuration).")


# ---- asking the members ------------------------------------------------------------------------------


def _password(spec: RepmgrSpec, live: Live) -> tuple[str, str]:
    login = spec.login("superuser")
    return login.user, live.credential(login.password)


def _query(endpoint: tuple[str, int], user: str, password: str, dbname: str, sql: str, *,
           params: Sequence[Any] | None = None, timeout_s: int = TIMEOUT_S) -> list[tuple[Any, ...]]:
    import psycopg

    host, port = endpoint
    with psycopg.connect(host=host, port=port, user=user, password=password, dbname=dbname,
                         connect_timeout=timeout_s, autocommit=True, application_name="drills-probe") as conn:
        return list(conn.execute(sql, params).fetchall())


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def _ask(spec: RepmgrSpec, live: Live, service: str, user: str, password: str) -> _repmgr.Answer:
    endpoint = live.reach(service, spec.sql_port)
    if endpoint is None:
        return _repmgr.Answer(service, None, f"the host does not reach its port {spec.sql_port}")
    try:
        rows = _query(endpoint, user, password, "postgres", "SELECT pg_is_in_recovery()")
    except Exception as exc:  # psycopg.Error, OSError: this member did not answer
        return _repmgr.Answer(service, None, _short(exc))
    return _repmgr.Answer(service, bool(rows[0][0]) if rows else None)


def read_cluster(spec: RepmgrSpec, live: Live, group: Sequence[str] | None = None) -> _repmgr.Cluster:
    """Every member's answer; from the one primary, repmgr's nodes (placed on services) and who
    streams. A password that cannot be read is the cluster's error."""
    services = list(group) if group is not None else live.members(GROUP)
    try:
        user, password = _password(spec, live)
    except StackError as exc:
        return _repmgr.Cluster((), error=str(exc))
    with ThreadPoolExecutor(max_workers=max(1, len(services))) as pool:
        answers = tuple(pool.map(lambda s: _ask(spec, live, s, user, password), services))
    cluster = _repmgr.Cluster(answers)
    leader = cluster.leader
    endpoint = live.reach(leader, spec.sql_port) if leader else None
    if leader is None or endpoint is None:
        return cluster
    try:
        nodes = _repmgr.parse_nodes(_query(endpoint, user, password, spec.repmgr_db, _repmgr.NODES_SQL))
        streams = _repmgr.parse_streams(_query(endpoint, user, password, "postgres", _repmgr.STREAMS_SQL))
    except Exception as exc:  # psycopg.Error, OSError: the primary's tables not read, said so
        return _repmgr.Cluster(answers, error=f"repmgr.nodes or pg_stat_replication on {leader}: {_short(exc)}")
    snap = live.snapshot()
    hosts = {n.host: live.service_of_host(n.host, snap) for n in nodes if n.host}
    places = _repmgr.place(nodes, hosts, spec.members, live.defined_services())
    return _repmgr.Cluster(answers, tuple(nodes), tuple(streams), places)


def resolve(spec: RepmgrSpec, live: Live, selector: str, qualifier: str | None, group: Sequence[str]) -> list[str]:
    """`postgres.leader`: the one member that says it is a primary; `postgres.replica`: those in
    recovery. StackError when no single member says it leads (none, or a split brain)."""
    cluster = read_cluster(spec, live, group)
    if cluster.error is not None and not cluster.answers:
        raise StackError(f"{GROUP}.{selector}: {cluster.error}")
    leaders = _repmgr.primaries(cluster.answers)
    if len(leaders) != 1:
        said = f"primaries {', '.join(leaders)}" if leaders else "no member says it is a primary"
        raise StackError(f"{GROUP}.{selector}: PostgreSQL has no single leader right now ({said})")
    if selector == "leader":
        return leaders
    return _repmgr.standbys(cluster.answers)


def ready(spec: RepmgrSpec, live: Live, boot: bool) -> Observation:
    """One primary, every other member streaming from it (as Patroni's readiness asks)."""
    group = live.members(GROUP)
    cluster = read_cluster(spec, live, group)
    if cluster.error is not None and not cluster.answers:
        return Observation(False, cluster.error)
    ok, detail = _repmgr.readiness(cluster, group)
    return Observation(ok, detail)


# ---- status ----------------------------------------------------------------------------------------------


def status(spec: RepmgrSpec, live: Live) -> StatusView:
    """`drill stack status`: each member's own answer beside repmgr's record of it and whether it
    streams from the primary. `data` holds the same as the Patroni path's status (leader, members,
    replication), so `drill stack status` draws both alike."""
    group = live.members(GROUP)
    cluster = read_cluster(spec, live, group)
    nodes = {cluster.services.get(n.name) if cluster.services else None: n for n in cluster.nodes}
    by_id = {n.node_id: n.name for n in cluster.nodes}
    streams = {s.name: s for s in cluster.streams}
    members, rows = [], []
    for answer in cluster.answers:
        node = nodes.get(answer.service)
        name = node.name if node else answer.service
        role = {False: "leader", True: "replica", None: "unknown"}[answer.in_recovery]
        state = "running" if answer.in_recovery is not None else "no answer"
        stream = streams.get(name)
        members.append({"name": name, "service": answer.service, "role": role, "state": state,
                        "host": node.host if node else "",
                        "upstream": by_id.get(node.upstream_id) if node and node.upstream_id else None})
        rows.append((name, answer.service, role, state, stream.state if stream else "-"))
    leader = cluster.leader
    data = {"adapter": NAME, "leader": cluster.node_of(leader) or leader, "leader_service": leader,
            "members": members,
            "replication": [{"name": s.name, "state": s.state, "replay_lag_bytes": s.replay_lag_bytes,
                             "replay_lag_s": s.replay_lag_s} for s in cluster.streams]}
    error = cluster.error
    if error is None and leader is None:
        leads = _repmgr.primaries(cluster.answers)
        error = f"primaries: {', '.join(leads)} (split brain)" if leads else "no single leader"
    return StatusView(title=f"PostgreSQL ({NAME}): leader {leader or 'none'}",
                      columns=("node", "service", "role", "state", "replication"), rows=tuple(rows),
                      error=error, data=data)


# ---- the effective configuration -------------------------------------------------------------------------

FACTS: tuple[Fact, ...] = (
    Fact("postgres.repmgr.failover", "word", "postgres", ("repmgr", "failover"), "repmgr",
         "repmgrd's failover mode (repmgr.conf): automatic promotes a standby, manual does not"),
    Fact("postgres.repmgr.reconnect_attempts", "number", "postgres", ("repmgr", "reconnect_attempts"), "repmgr",
         "checks of an unreachable primary before repmgrd fails over (repmgr.conf)"),
    Fact("postgres.repmgr.reconnect_interval", "number", "postgres", ("repmgr", "reconnect_interval"), "repmgr",
         "seconds between those checks (repmgr.conf)"),
    Fact("postgres.repmgr.monitor_interval_secs", "number", "postgres", ("repmgr", "monitor_interval_secs"),
         "repmgr", "seconds between repmgrd's checks of its upstream (repmgr.conf)"),
    Fact("postgres.repmgr.primary_visibility_consensus", "bool", "postgres",
         ("repmgr", "primary_visibility_consensus"), "repmgr",
         "no failover while a sibling standby still sees the primary (repmgr.conf)"),
)


def _cat(live: Live, container_id: str, path: str) -> str:
    done = live.client.containers.get(container_id).exec_run(["cat", path])
    output = done.output.decode(errors="replace") if isinstance(done.output, bytes) else str(done.output)
    if done.exit_code != 0:
        raise OSError(f"cat {path} exited {done.exit_code}: {output.strip()[-200:]}")
    return output


def read_effective(spec: RepmgrSpec, live: Live, timeout_s: float) -> Part:
    """The postgres part: each member's repmgr.conf failover settings (one value where all agree,
    else per service), which were repmgr's defaults, and pg_settings on the primary; the leader and
    each member's answer as state."""
    group = live.members(GROUP)
    if not group:
        return absent("no PostgreSQL service in this stack")
    snap = live.snapshot()
    per_node: dict[str, dict[str, Any]] = {}
    defaulted: set[str] = set()
    gaps: dict[str, str] = {}
    errors = []
    for service in group:
        node = snap.get(service)
        if node is None or node.state != "running":
            continue
        try:
            values, missing = _repmgr.failover_settings(_repmgr.parse_conf(_cat(live, node.container_id,
                                                                                 spec.config)))
        except Exception as exc:  # docker errors, OSError, ConfError: this node's file not read
            errors.append(f"{service}: {_short(exc)}")
            continue
        per_node[service] = values
        defaulted.update(missing)
    if not per_node:
        gaps["repmgr"] = f"{spec.config} not read on any member: " + ("; ".join(errors) or "none is running")
    cluster = read_cluster(spec, live, group)
    settings: dict[str, Any] = {"adapter": NAME}
    if per_node:
        settings["repmgr"] = _repmgr.agreed(per_node)
        settings["repmgr_defaults"] = sorted(defaulted)
    state: dict[str, Any] = {"leader": cluster.leader, "primaries": _repmgr.primaries(cluster.answers),
                             "members": [{"service": a.service, "in_recovery": a.in_recovery}
                                         for a in cluster.answers]}
    leader = cluster.leader
    endpoint = live.reach(leader, spec.sql_port) if leader else None
    if leader is None or endpoint is None:
        gaps["pg_settings"] = f"no single primary to ask ({', '.join(state['primaries']) or 'none'})"
    else:
        try:
            user, password = _password(spec, live)
            rows = _query(endpoint, user, password, "postgres", PG_SETTINGS_SQL,
                          params=[list(PG_SETTINGS + PG_STATE_SETTINGS)], timeout_s=max(1, round(timeout_s)))
        except Exception as exc:  # psycopg.Error, OSError, StackError: recorded as not read
            gaps["pg_settings"] = f"pg_settings on {leader}: {_short(exc)}"
        else:
            values, now = parse_pg_settings(rows)
            settings["pg_settings"] = values
            state.update(now)
    if not per_node and "pg_settings" in gaps:
        return not_read(f"{gaps['repmgr']}; {gaps['pg_settings']}")
    return Part(READ, settings=settings, state=state, not_read=gaps)


def describe(part: Part) -> str:
    """`postgres: repmgr, failover automatic after 3 x 2 s (monitor every 1 s); synchronous_commit on`."""
    s = part.settings
    conf: Mapping[str, Any] = s.get("repmgr") or {}
    text = f"postgres: {NAME}"
    if conf:
        text += (f", failover {conf.get('failover')} after {conf.get('reconnect_attempts')} x "
                 f"{conf.get('reconnect_interval')} s (monitor every {conf.get('monitor_interval_secs')} s)")
    pg: Mapping[str, Any] = s.get("pg_settings") or {}
    if pg:
        text += "; " + ", ".join(f"{k} {pg[k]}" for k in ("synchronous_commit", "wal_level") if k in pg)
    return text + "".join(f"; {item} not read: {why}" for item, why in part.not_read.items())


# ---- leaders, sampled through a drill --------------------------------------------------------------------


class Rounds:
    """Each member asked `SELECT NOT pg_is_in_recovery()` every `every_s`, concurrently, on a
    connection kept per member. A member whose last question is still unanswered (frozen, cut
    off) is not asked again and claims nothing this round: a sampler never piles up threads."""

    def __init__(self, spec: RepmgrSpec, live: Live, every_s: float = 0.25, timeout_s: float = 0.5) -> None:
        self.spec, self.live, self.every_s, self.timeout_s = spec, live, every_s, timeout_s
        self._pool = ThreadPoolExecutor(max_workers=6)
        self._pending: dict[str, Future[bool]] = {}
        self._conns: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._login: tuple[str, str] | None = None

    def _claims(self, service: str) -> bool:
        import psycopg

        with self._lock:
            conn = self._conns.get(service)
        try:
            if conn is None or conn.closed:
                endpoint = self.live.reach(service, self.spec.sql_port)
                if endpoint is None or self._login is None:
                    return False
                conn = psycopg.connect(host=endpoint[0], port=endpoint[1], user=self._login[0],
                                       password=self._login[1], dbname="postgres", connect_timeout=TIMEOUT_S,
                                       autocommit=True, application_name="drills-leader-sampler")
                with self._lock:
                    self._conns[service] = conn
            row = conn.execute("SELECT NOT pg_is_in_recovery()").fetchone()
            return bool(row and row[0])
        except Exception:  # refused, reset, frozen: not a writable leader as far as anyone can tell
            with self._lock:
                dropped = self._conns.pop(service, None)
            if dropped is not None:
                dropped.close()
            return False

    def read(self) -> Mapping[str, Reading]:
        if self._login is None:
            try:
                self._login = _password(self.spec, self.live)
            except StackError:
                return {GROUP: Reading([], {"asked": [], "error": "the superuser's password cannot be read"})}
        services = self.live.members(GROUP)
        asked = [s for s in services if s not in self._pending or self._pending[s].done()]
        for service in asked:
            self._pending[service] = self._pool.submit(self._claims, service)
        futures = {s: self._pending[s] for s in services if s in self._pending}
        wait_futures(list(futures.values()), timeout=self.timeout_s)
        leaders = sorted(s for s, f in futures.items() if f.done() and not f.exception() and f.result())
        return {GROUP: Reading(leaders, {"asked": sorted(asked)})}

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        for conn in list(self._conns.values()):
            with contextlib.suppress(Exception):  # closing a broken connection: nothing left to do
                conn.close()


def open_rounds(spec: RepmgrSpec, live: Live, subjects: Collection[str]) -> Rounds:
    return Rounds(spec, live)


# ---- repmgrd's log -----------------------------------------------------------------------------------------
# repmgr 5.3.3's own lines (Debian bookworm's postgresql-15-repmgr): one of each in SAMPLES.

LOGS = (
    LogPattern(NAME, "promoting", re.compile(r"this node is the winner, will now promote itself")),
    LogPattern(NAME, "promoted", re.compile(r'server "([^"]+)" \(ID: \d+\) was successfully promoted to primary'),
               subject=1),
    LogPattern(NAME, "upstream-lost", re.compile(r'unable to (?:connect|ping|reconnect) to (?:upstream )?node '
                                                 r'"([^"]+)"'), subject=1, repeat_s=30.0),
    LogPattern(NAME, "following", re.compile(r'(?:node "[^"]+" \(ID: \d+\) )?now following new upstream node '
                                             r'"([^"]+)"'), subject=1),
    LogPattern(NAME, "rejoined", re.compile(r"NODE REJOIN successful")),
)

# (line, kind, subject): lines repmgr 5.3.3 wrote in stacks/examples/repmgr when its primary was killed
# (a standby losing it, the winner promoting, a sibling following) and the old primary rejoined.
SAMPLES = (
    ('[2026-12-05 09:13:49] [WARNING] unable to connect to upstream node "ledger-a" (ID: 1)', "upstream-lost",
     "ledger-a"),
    ('[2026-12-05 09:13:53] [WARNING] unable to reconnect to node "ledger-a" (ID: 1) after 3 attempts',
     "upstream-lost", "ledger-a"),
    ("[2026-12-05 09:13:53] [NOTICE] this node is the winner, will now promote itself and inform other nodes",
     "promoting", ""),
    ('DETAIL: server "ledger-b" (ID: 2) was successfully promoted to primary', "promoted", "ledger-b"),
    ('[2026-12-05 09:13:54] [NOTICE] node "ledger-c" (ID: 3) now following new upstream node "ledger-b" (ID: 2)',
     "following", "ledger-b"),
    ("NOTICE: NODE REJOIN successful", "rejoined", ""),
)


ADAPTER: Adapter[RepmgrSpec] = Adapter(
    name=NAME, kind=GROUP, spec=RepmgrSpec, label="PostgreSQL (repmgr)", ports=lambda spec: {"sql": spec.sql_port},
    ready=ready, ready_every_s=0.5,
    roles=Roles(selectors=frozenset({"leader", "replica"}), single=frozenset({"leader"}), resolve=resolve),
    status=status, effective=Effective(read=read_effective, describe=describe, facts=FACTS, part=GROUP),
    leaders=Leaders(open=open_rounds), logs=LOGS)
