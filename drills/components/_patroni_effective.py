"""PostgreSQL under Patroni's effective configuration: the dynamic settings Patroni's documentation
gives a default for, the part in words, the facts `assumes:` may name of it, and its reader
(`read_postgres`: Patroni's REST API and the leader's pg_settings), which the registry's legacy
effective table lists until the Patroni adapter reads it (plans/components-protocol.md, C-P2).
`parse_patroni` and the words are pure.

    PostgreSQL 15.18, Patroni 3.0.2, 3 members: synchronous_mode on (strict off), synchronous_commit on,
        ttl 10 s, loop_wait 2 s, retry_timeout 3 s, ...; now leader pg1, sync_standby pg2, replica pg3

A value the DCS does not hold says it is Patroni's default.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from drills.components import _postgres_cluster as postgres
from drills.components._effective_words import gaps_text, value_text
from drills.components._legacy_stack import TIMEOUT_S, LegacyStack, endpoints
from drills.components._patroni_spec import PostgresSpec
from drills.components._patroni_topology import GROUP, placer
from drills.components._pg_settings import PG_SETTINGS, PG_SETTINGS_SQL, PG_STATE_SETTINGS, parse_pg_settings
from drills.components._postgres_spec import PostgresBase
from drills.components.base import Live
from drills.components.httpjson import get_json
from drills.core.effective_config import READ, Fact, Part, absent, not_read

PART = "postgres"

# Patroni's dynamic settings that decide failover and durability, with Patroni's documented default:
# a key the DCS does not hold is recorded as that default, marked so (never guessed silently).
PATRONI_DEFAULTS: dict[str, Any] = {
    "synchronous_mode": False, "synchronous_mode_strict": False, "synchronous_node_count": 1,
    "ttl": 30, "loop_wait": 10, "retry_timeout": 10, "maximum_lag_on_failover": 1048576,
    "failsafe_mode": False,
}
PATRONI_POSTGRESQL_DEFAULTS: dict[str, Any] = {"use_pg_rewind": False, "use_slots": True}

_UNITS = {"ttl": " s", "loop_wait": " s", "retry_timeout": " s", "maximum_lag_on_failover": " B"}


def describe(part: Part) -> str:
    """Patroni's settings, PostgreSQL's that matter, and the members now."""
    s, st = part.settings, part.state
    patroni: Mapping[str, Any] = s.get("patroni") or {}
    defaulted = set(s.get("patroni_defaults") or [])
    pg: Mapping[str, Any] = s.get("pg_settings") or {}
    head = "PostgreSQL"
    if pg.get("server_version"):
        head += f" {str(pg['server_version']).split()[0]}"
    if s.get("patroni_version"):
        head += f", Patroni {s['patroni_version']}"
    head += f", {len(st.get('members') or [])} members"

    def setting(key: str) -> str:
        text = f"{key} {value_text(patroni.get(key))}{_UNITS.get(key, '')}"
        return text + (" (Patroni default)" if key in defaulted else "")

    items = [setting("synchronous_mode")]
    if patroni.get("synchronous_mode"):
        items.append(setting("synchronous_mode_strict"))
    if "synchronous_commit" in pg:
        items.append(f"synchronous_commit {pg['synchronous_commit']}")
    items += [setting(k) for k in ("ttl", "loop_wait", "retry_timeout", "maximum_lag_on_failover")]
    items += [f"{k} {value_text(v)}" for k, v in (s.get("postgresql") or {}).items()]
    now = ", ".join(f"{m['role']} {_member(m)}" for m in st.get("members") or [])
    return f"{head}: {', '.join(items)}" + (f"; now {now}" if now else "") + gaps_text(part)


def _member(member: Mapping[str, Any]) -> str:
    """A Patroni member, with its service where the names differ (pgnode-a (db-1))."""
    service = member.get("service")
    return f"{member['name']} ({service})" if service and service != member["name"] else str(member["name"])


FACTS: tuple[Fact, ...] = (
    Fact("postgres.patroni.ttl", "number", "postgres", ("patroni", "ttl"), "",
         "Patroni's leader key TTL in seconds (DCS): how long a dead leader holds the key"),
    Fact("postgres.patroni.loop_wait", "number", "postgres", ("patroni", "loop_wait"), "",
         "seconds between Patroni's HA cycles (DCS)"),
    Fact("postgres.patroni.retry_timeout", "number", "postgres", ("patroni", "retry_timeout"), "",
         "seconds Patroni retries DCS and PostgreSQL calls before a leader demotes itself (DCS)"),
    Fact("postgres.patroni.synchronous_mode", "bool", "postgres", ("patroni", "synchronous_mode"), "",
         "Patroni keeps a synchronous standby, and only it may be promoted (DCS)"),
    Fact("postgres.patroni.synchronous_mode_strict", "bool", "postgres", ("patroni", "synchronous_mode_strict"), "",
         "with no synchronous standby left, commits wait instead of going on alone (DCS)"),
    Fact("postgres.patroni.synchronous_node_count", "number", "postgres", ("patroni", "synchronous_node_count"), "",
         "how many synchronous standbys Patroni keeps (DCS)"),
    Fact("postgres.patroni.maximum_lag_on_failover", "number", "postgres", ("patroni", "maximum_lag_on_failover"),
         "", "bytes of WAL a replica may lag and still be promoted (DCS)"),
    Fact("postgres.patroni.failsafe_mode", "bool", "postgres", ("patroni", "failsafe_mode"), "",
         "the leader stays leader while the DCS is down if every member answers it (DCS)"),
    Fact("postgres.postgresql.use_pg_rewind", "bool", "postgres", ("postgresql", "use_pg_rewind"), "",
         "a former leader whose timeline diverged rejoins through pg_rewind (DCS)", manager="patroni"),
    Fact("postgres.postgresql.use_slots", "bool", "postgres", ("postgresql", "use_slots"), "",
         "replicas stream through replication slots (DCS)", manager="patroni"),
    Fact("postgres.synchronous_commit", "word", "postgres", ("pg_settings", "synchronous_commit"), "pg_settings",
         "PostgreSQL's synchronous_commit on the leader (pg_settings): on, remote_write and remote_apply wait for "
         "the synchronous standby; local and off do not"),
    Fact("postgres.wal_level", "word", "postgres", ("pg_settings", "wal_level"), "pg_settings",
         "PostgreSQL's wal_level on the leader (pg_settings)"),
)
# How `assumes:` is written, shown in the grammar's help and in the JSON schema.
EXAMPLES = ("postgres.patroni.ttl <= 10", "postgres.patroni.synchronous_mode: true",
            "postgres.synchronous_commit in [on, remote_write, remote_apply]")


# ---- the reader ----------------------------------------------------------------------------------

def _pick(doc: Mapping[str, Any], defaults: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The keys of `defaults` as `doc` has them, else their default; and which were defaulted."""
    return {k: doc.get(k, v) for k, v in defaults.items()}, [k for k in defaults if k not in doc]


def parse_patroni(config: Mapping[str, Any], cluster: Mapping[str, Any],
                  node: Mapping[str, Any] | None,
                  place: postgres.Placer | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(settings, state) from Patroni's `GET /config` (the DCS's dynamic configuration), `GET /cluster`
    and `GET /patroni` of one member (its Patroni version; None when it did not answer). `place`:
    matches the members to their services (`_patroni_topology.placer`); none: not matched."""
    patroni, defaulted = _pick(config, PATRONI_DEFAULTS)
    pg_conf = config.get("postgresql") or {}
    pg, pg_defaulted = _pick(pg_conf, PATRONI_POSTGRESQL_DEFAULTS)
    cluster_members = postgres.parse_cluster(cluster)
    if place is not None:
        cluster_members = place(cluster_members)
    settings: dict[str, Any] = {
        "patroni": patroni, "postgresql": pg, "patroni_defaults": sorted(defaulted + pg_defaulted),
        "dcs_parameters": dict(pg_conf.get("parameters") or {}),
    }
    if node is not None and (node.get("patroni") or {}).get("version"):
        settings["patroni_version"] = str(node["patroni"]["version"])
    # Members are state: Patroni lists those with a live key in the DCS (a node down drops out).
    state = {"leader": postgres.leader_of(cluster_members),
             "members": [{"name": m.name, "role": m.role, "state": m.state, "service": m.service}
                         for m in cluster_members]}
    return settings, state


def _read_pg_settings(endpoint: tuple[str, int], user: str, password: str, timeout_s: float) -> list[tuple[Any, ...]]:
    import psycopg

    host, port = endpoint
    with psycopg.connect(host=host, port=port, user=user, password=password, dbname="postgres",
                         connect_timeout=max(1, round(timeout_s)), autocommit=True) as conn:
        return conn.execute(PG_SETTINGS_SQL, [list(PG_SETTINGS + PG_STATE_SETTINGS)]).fetchall()


def read_postgres(stack: LegacyStack, snap: Mapping[str, Any], timeout_s: float = TIMEOUT_S,
                  live: Live | None = None) -> Part:
    """The part, from the first Patroni that answers and its leader's pg_settings. A PostgreSQL
    another manager runs: what its adapter reads (`live`: the stack, able to log in)."""
    nodes = stack.members(snap, GROUP)
    if not nodes:
        return absent("no PostgreSQL service in this stack")
    bound = stack.definition.bound().get(GROUP)
    if bound is not None:  # another manager than Patroni: its adapter reads it (drills.components)
        if bound.adapter.effective is None or live is None:
            return not_read(f"{bound.adapter.label}: " + ("its adapter reads no configuration"
                                                          if bound.adapter.effective is None
                                                          else "no stack to read it from"))
        return bound.adapter.effective.read(bound.spec, live, timeout_s)
    rest = endpoints(snap, nodes, stack.definition.component(GROUP, PostgresSpec).rest_port)
    if not rest:
        return not_read(f"no PostgreSQL member ({', '.join(nodes)}) is running with Patroni's REST API published")
    errors = []
    for service, (host, port) in rest.items():
        base = f"http://{host}:{port}"
        try:
            config, cluster = get_json(f"{base}/config", timeout_s=timeout_s), get_json(f"{base}/cluster",
                                                                                          timeout_s=timeout_s)
        except OSError as exc:
            errors.append(f"{service}: {exc}")
            continue
        gaps: dict[str, str] = {}
        try:
            node = get_json(f"{base}/patroni", timeout_s=timeout_s)
        except OSError as exc:
            node, gaps["patroni_version"] = None, f"GET /patroni of {service}: {exc}"
        settings, state = parse_patroni(config or {}, cluster or {}, node, placer(stack, snap))
        state["read_from"] = service
        member = state["leader"]
        leader = next((m["service"] for m in state["members"] if m["name"] == member), None)
        sql = endpoints(snap, [leader], stack.definition.component(GROUP, PostgresBase).sql_port) if leader else {}
        if member is not None and leader is None:
            gaps["pg_settings"] = f"the leader, member {member}, matches no service of the stack"
        elif leader is None or leader not in sql:
            gaps["pg_settings"] = f"no single leader with a published port to ask ({leader or 'none'})"
        else:
            try:
                superuser = stack.definition.component(GROUP, PostgresBase).login("superuser")
                rows = _read_pg_settings(sql[leader], superuser.user, stack.credential(superuser.password),
                                         timeout_s)
            except Exception as exc:  # psycopg.Error, OSError: recorded as not read, never fatal
                gaps["pg_settings"] = f"pg_settings on {leader}: {str(exc).strip()[:200]}"
            else:
                values, now = parse_pg_settings(rows)
                settings["pg_settings"] = values
                state.update(now)
        return Part(READ, settings=settings, state=state, not_read=gaps)
    return not_read("no Patroni REST API answered: " + "; ".join(errors))


def defined(stack: LegacyStack, services: Sequence[str]) -> list[str]:
    """The part's services among those Compose defines."""
    return stack.settings.roles.members(GROUP, services)
