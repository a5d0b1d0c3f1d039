"""PostgreSQL under Patroni's effective configuration: the dynamic settings Patroni's documentation
gives a default for, the part in words, and the facts `assumes:` may name of it. Read by
`drills.stack.effective_sources` until the Patroni adapter reads it (plans/components-protocol.md,
C-P2). Pure.

    PostgreSQL 15.18, Patroni 3.0.2, 3 members: synchronous_mode on (strict off), synchronous_commit on,
        ttl 10 s, loop_wait 2 s, retry_timeout 3 s, ...; now leader pg1, sync_standby pg2, replica pg3

A value the DCS does not hold says it is Patroni's default.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drills.components._effective_words import gaps_text, value_text
from drills.core.effective_config import Fact, Part

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
         "a former leader whose timeline diverged rejoins through pg_rewind (DCS)"),
    Fact("postgres.postgresql.use_slots", "bool", "postgres", ("postgresql", "use_slots"), "",
         "replicas stream through replication slots (DCS)"),
    Fact("postgres.synchronous_commit", "word", "postgres", ("pg_settings", "synchronous_commit"), "pg_settings",
         "PostgreSQL's synchronous_commit on the leader (pg_settings): on, remote_write and remote_apply wait for "
         "the synchronous standby; local and off do not"),
    Fact("postgres.wal_level", "word", "postgres", ("pg_settings", "wal_level"), "pg_settings",
         "PostgreSQL's wal_level on the leader (pg_settings)"),
)
# How `assumes:` is written, shown in the grammar's help and in the JSON schema.
EXAMPLES = ("postgres.patroni.ttl <= 10", "postgres.patroni.synchronous_mode: true",
            "postgres.synchronous_commit in [on, remote_write, remote_apply]")
