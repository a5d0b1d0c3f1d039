"""PostgreSQL tier: who leads (Patroni's view, from its REST API) and who streams (the leader's own
`pg_stat_replication`, which is the ground truth: `patronictl list` calls a replica "running"
whether or not its WAL receiver is connected)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from drills.components.httpjson import get_json

Endpoint = tuple[str, int]
REST_PORT = 8008
PG_PORT = 5432
LEADER_ROLES = {"leader", "master", "primary", "standby_leader"}


@dataclass(frozen=True)
class PgMember:
    name: str
    role: str  # leader | replica | sync_standby
    state: str  # Patroni's: running, streaming, starting, stopped, ...
    host: str
    timeline: int | None = None
    lag_bytes: int | None = None  # Patroni's estimate, for replicas


@dataclass(frozen=True)
class StreamingReplica:
    """One row of the leader's pg_stat_replication."""

    name: str  # application_name = the Patroni member name
    client_addr: str
    state: str  # streaming, catchup, startup, backup
    sent_lag_bytes: int
    replay_lag_bytes: int
    replay_lag_s: float | None


@dataclass(frozen=True)
class PostgresStatus:
    leader: str | None
    members: tuple[PgMember, ...]
    replication: tuple[StreamingReplica, ...]
    error: str | None = None

    def streaming(self) -> list[str]:
        return sorted(r.name for r in self.replication if r.state == "streaming")


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def parse_cluster(doc: Mapping[str, Any]) -> list[PgMember]:
    """Members from Patroni's `GET /cluster`; every spelling of "leader" Patroni has used is `leader`."""
    members = []
    for m in doc.get("members") or []:
        role = str(m.get("role", "unknown"))
        members.append(PgMember(
            name=str(m.get("name", "?")),
            role="leader" if role in LEADER_ROLES else role,
            state=str(m.get("state", "unknown")),
            host=str(m.get("host", "")),
            timeline=_int(m.get("timeline")),
            lag_bytes=_int(m.get("lag")),
        ))
    return sorted(members, key=lambda m: m.name)


def leader_of(members: Iterable[PgMember]) -> str | None:
    leaders = [m.name for m in members if m.role == "leader"]
    return leaders[0] if len(leaders) == 1 else None


def read_cluster(rest_endpoints: Sequence[Endpoint], timeout_s: float = 2.0) -> list[PgMember]:
    """The cluster as the DCS records it, from the first Patroni that answers."""
    errors = []
    for host, port in rest_endpoints:
        try:
            return parse_cluster(get_json(f"http://{host}:{port}/cluster", timeout_s=timeout_s))
        except OSError as exc:
            errors.append(f"{host}:{port}: {exc}")
    raise OSError("no Patroni REST API answered: " + "; ".join(errors) if errors else "no Patroni endpoint")


REPLICATION_SQL = """
SELECT application_name, coalesce(host(client_addr), ''), state,
       coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), sent_lsn), 0)::bigint,
       coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0)::bigint,
       extract(epoch FROM replay_lag)::float8
FROM pg_stat_replication ORDER BY application_name
"""


def parse_replication(rows: Iterable[Sequence[Any]]) -> list[StreamingReplica]:
    return [StreamingReplica(str(r[0]), str(r[1]), str(r[2]), int(r[3]), int(r[4]),
                             float(r[5]) if r[5] is not None else None) for r in rows]


def read_replication(endpoint: Endpoint, superuser: str, password: str, timeout_s: int = 2) -> list[StreamingReplica]:
    """pg_stat_replication on the node at `endpoint` (the leader), as the stack's superuser, in
    PostgreSQL's own `postgres` database."""
    import psycopg

    host, port = endpoint
    with psycopg.connect(host=host, port=port, user=superuser, password=password, dbname="postgres",
                         connect_timeout=timeout_s, autocommit=True) as conn:
        return parse_replication(conn.execute(REPLICATION_SQL).fetchall())


def read_status(rest: Mapping[str, Endpoint], sql: Mapping[str, Endpoint], superuser: str,
                password: str) -> PostgresStatus:
    """Leader and members from Patroni, replication from the leader (as `superuser`). `rest`/`sql`:
    service -> endpoint."""
    try:
        members = read_cluster(list(rest.values()))
    except OSError as exc:
        return PostgresStatus(None, (), (), error=str(exc))
    leader = leader_of(members)
    if leader is None or leader not in sql:
        return PostgresStatus(leader, tuple(members), (), error=None if leader else "no single leader")
    try:
        replication = read_replication(sql[leader], superuser, password)
    except Exception as exc:  # psycopg.Error, OSError: report, do not crash a status
        return PostgresStatus(leader, tuple(members), (), error=f"pg_stat_replication on {leader}: {exc}")
    return PostgresStatus(leader, tuple(members), tuple(replication))
