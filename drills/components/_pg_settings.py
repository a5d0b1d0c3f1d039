"""PostgreSQL's own settings a drill's verdicts depend on (durability, replication), read from
`pg_settings` whatever manages failover: the Patroni path (`drills.components._patroni_effective`) and
the repmgr adapter record the same names, so the facts `postgres.synchronous_commit` and
`postgres.wal_level` mean the same on both. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

PG_SETTINGS = ("server_version", "synchronous_commit", "wal_level", "max_wal_senders", "wal_keep_size",
               "wal_log_hints", "hot_standby")
PG_STATE_SETTINGS = ("synchronous_standby_names",)  # names the current synchronous standby: it moves
PG_SETTINGS_SQL = "SELECT name, setting, coalesce(unit, '') FROM pg_settings WHERE name = ANY(%s) ORDER BY name"


def _text(value: Any) -> str:
    # A server whose encoding is SQL_ASCII hands psycopg bytes.
    return value.decode(errors="replace") if isinstance(value, bytes | bytearray) else str(value)


def parse_pg_settings(rows: Iterable[Sequence[Any]]) -> tuple[dict[str, str], dict[str, str]]:
    """(settings, state) from `pg_settings` rows (name, setting, unit): `128` `MB` reads `128MB`."""
    values = {_text(r[0]): f"{_text(r[1])}{_text(r[2] or '')}" for r in rows}
    return ({k: values[k] for k in PG_SETTINGS if k in values},
            {k: values[k] for k in PG_STATE_SETTINGS if k in values})
