"""PostgreSQL tier: who leads (Patroni's view, from its REST API) and who streams (the leader's own
`pg_stat_replication`, which is the ground truth: `patronictl list` calls a replica "running"
whether or not its WAL receiver is connected)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from drills.components.base import StatusView
from drills.components.httpjson import get_json

Endpoint = tuple[str, int]
REST_PORT = 8008
PG_PORT = 5432
LEADER_ROLES = {"leader", "master", "primary", "standby_leader"}


@dataclass(frozen=True)
class PgMember:
    name: str  # Patroni's member name, which need not be the service's
    role: str  # leader | replica | sync_standby
    state: str  # Patroni's: running, streaming, starting, stopped, ...
    host: str  # of its connect_address: where the others reach its PostgreSQL
    timeline: int | None = None
    lag_bytes: int | None = None  # Patroni's estimate, for replicas
    api_host: str = ""  # of its REST API's connect_address (api_url)
    service: str | None = None  # the Compose service it runs in; None: not matched (drills.stack.topology)

    def hosts(self) -> tuple[str, ...]:
        """Where the cluster says it is, most telling first: what matches it to a service."""
        return tuple(dict.fromkeys(h for h in (self.host, self.api_host) if h))


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
    leader: str | None  # the leader's member name
    members: tuple[PgMember, ...]
    replication: tuple[StreamingReplica, ...]
    error: str | None = None

    def streaming(self) -> list[str]:
        return sorted(r.name for r in self.replication if r.state == "streaming")

    @property
    def leader_service(self) -> str | None:
        return service_of(self.members, self.leader)

    def unmatched(self) -> list[PgMember]:
        """The members no service of the stack could be matched to."""
        return [m for m in self.members if m.service is None]


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
            api_host=_url_host(m.get("api_url")),
        ))
    return sorted(members, key=lambda m: m.name)


def _url_host(url: Any) -> str:
    if not url:
        return ""
    try:
        return urlsplit(str(url)).hostname or ""
    except ValueError:
        return ""


def leader_of(members: Iterable[PgMember]) -> str | None:
    leaders = [m.name for m in members if m.role == "leader"]
    return leaders[0] if len(leaders) == 1 else None


def service_of(members: Iterable[PgMember], member: str | None) -> str | None:
    """The service `member` runs in, as matched (None: no such member, or not matched)."""
    return next((m.service for m in members if m.name == member), None) if member else None


# Members -> the same members with the services they run in (drills.components._postgres_place.placer).
Placer = Callable[[list[PgMember]], list[PgMember]]


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
                password: str, place: Placer) -> PostgresStatus:
    """Leader and members from Patroni, replication from the leader (as `superuser`). `rest`/`sql`:
    service -> endpoint; `place`: matches the members to their services."""
    try:
        members = read_cluster(list(rest.values()))
    except OSError as exc:
        return PostgresStatus(None, (), (), error=str(exc))
    members = place(members)
    leader = leader_of(members)
    service = service_of(members, leader)
    if leader is None or service is None or service not in sql:
        return PostgresStatus(leader, tuple(members), (), error=None if leader else "no single leader")
    try:
        replication = read_replication(sql[service], superuser, password)
    except Exception as exc:  # psycopg.Error, OSError: report, do not crash a status
        return PostgresStatus(leader, tuple(members), (), error=f"pg_stat_replication on {leader}: {exc}")
    return PostgresStatus(leader, tuple(members), tuple(replication))


def from_view(view: StatusView) -> PostgresStatus:
    """The status a PostgreSQL adapter of `drills.components` gave (its `StatusView.data`: leader,
    members, replication), as `drill stack status` and readiness read Patroni's."""
    data = view.data
    members = tuple(PgMember(name=str(m.get("name")), role=str(m.get("role")), state=str(m.get("state")),
                             host=str(m.get("host") or ""), service=m.get("service"))
                    for m in data.get("members") or [])
    replication = tuple(StreamingReplica(str(r.get("name")), "", str(r.get("state")), 0,
                                         int(r.get("replay_lag_bytes") or 0), r.get("replay_lag_s"))
                        for r in data.get("replication") or [])
    leader = data.get("leader")
    return PostgresStatus(str(leader) if leader else None, members, replication, error=view.error)


# ---- the path applications use: a proxy in front of the members --------------------------------

LEADER_SQL = "SELECT NOT pg_is_in_recovery()"


@dataclass(frozen=True)
class ProxyPath:
    """One service of the proxy the stack's applications connect through
    (`components.postgres.access`), and where a session opened through it landed."""

    through: str  # the proxy's role
    service: str
    port: int  # in its container
    endpoint: Endpoint | None  # as the host reaches it; None: not running, or its port not published
    leader: bool | None = None  # the session landed on the leader (None: no session)
    error: str | None = None  # why no session could be opened

    @property
    def where(self) -> str:
        return f"{self.through} ({self.service}:{self.port})"

    def problem(self) -> str | None:
        """What keeps the applications' path from the leader, said for the user; None: it reaches it."""
        if self.endpoint is None:
            return f"the proxy {self.where} is not running, or the host does not reach its port {self.port}"
        if self.error is not None:
            return f"the proxy {self.where} refuses connections: {self.error}"
        if not self.leader:
            return f"the proxy {self.where} sends connections to a replica, not to the leader"
        return None


def lands_on_leader(endpoint: Endpoint, user: str, password: str, dbname: str, timeout_s: int = 2) -> bool:
    """Whether a session opened at `endpoint` (a proxy) lands on the leader; psycopg.Error or
    OSError when none can be opened."""
    import psycopg

    host, port = endpoint
    with psycopg.connect(host=host, port=port, user=user, password=password, dbname=dbname,
                         connect_timeout=timeout_s, autocommit=True, application_name="drills-probe") as conn:
        row = conn.execute(LEADER_SQL).fetchone()
        return bool(row and row[0])


def probe_proxy(path: ProxyPath, user: str, password: str, dbname: str) -> ProxyPath:
    """`path` with where a session opened through it landed (or why none could be opened)."""
    if path.endpoint is None:
        return path
    try:
        return replace(path, leader=lands_on_leader(path.endpoint, user, password, dbname))
    except Exception as exc:  # psycopg.Error, OSError: what the proxy did is the answer, never a crash
        return replace(path, error=" ".join(str(exc).split())[:300] or type(exc).__name__)
