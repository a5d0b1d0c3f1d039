"""repmgr's answers, read without a system: the configuration file, the `repmgr.nodes` rows, each
member's recovery state, and what follows from them (who leads, who streams, what is ready).

Pure (tested on recorded answers); `drills.components.repmgr` asks the live members and hands the
answers here.

repmgr keeps no lease: each member says for itself whether it is a primary
(`pg_is_in_recovery()` false). Two members saying so at once are two writable primaries, which is
what the split-brain checker must see, so nothing here picks one of them.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# repmgrd's settings that decide failover, with repmgr 5.3's documented defaults: a key the file
# does not set is recorded as its default and named in `repmgr_defaults` (never guessed silently).
REPMGR_DEFAULTS: dict[str, Any] = {
    "failover": "manual", "reconnect_attempts": 6, "reconnect_interval": 10, "monitor_interval_secs": 2,
    "connection_check_type": "ping", "priority": 100, "location": "default",
    "primary_visibility_consensus": False, "standby_disconnect_on_failover": False,
}
# Read when set; no default worth recording (repmgrd refuses automatic failover without the first two).
REPMGR_COMMANDS = ("promote_command", "follow_command", "failover_validation_command")
_NUMBERS = frozenset({"reconnect_attempts", "reconnect_interval", "monitor_interval_secs", "priority"})
_BOOLS = frozenset({"primary_visibility_consensus", "standby_disconnect_on_failover"})
_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


def text(value: Any) -> str:
    """A column as text: a server whose encoding is SQL_ASCII (initdb without a locale) hands psycopg
    bytes, which must read as the name they are, not as "b'...'"."""
    return value.decode(errors="replace") if isinstance(value, bytes | bytearray) else str(value)


class ConfError(ValueError):
    """A repmgr.conf line that is no `key=value`."""


def _unquote(raw: str) -> str:
    """A value as repmgr reads it: 'quoted' (with '' for a quote) or bare up to a comment."""
    if raw.startswith("'"):
        end, out, i = len(raw), [], 1
        while i < end:
            if raw[i] == "'":
                if i + 1 < end and raw[i + 1] == "'":
                    out.append("'")
                    i += 2
                    continue
                return "".join(out)
            out.append(raw[i])
            i += 1
        raise ConfError(f"unterminated quote in {raw!r}")
    return raw.split("#", 1)[0].strip()


def parse_conf(text: str) -> dict[str, str]:
    """repmgr.conf's `key=value` lines (the last of a key wins, as in repmgr); comments and blank
    lines skipped. A line that is neither is a ConfError naming it."""
    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise ConfError(f"line {number} is no key=value: {stripped[:80]!r}")
        found[match.group(1)] = _unquote(match.group(2))
    return found


def _typed(key: str, value: str) -> Any:
    if key in _NUMBERS:
        try:
            return int(value)
        except ValueError:
            return value
    if key in _BOOLS:
        return {"true": True, "on": True, "yes": True, "1": True,
                "false": False, "off": False, "no": False, "0": False}.get(value.lower(), value)
    return value


def failover_settings(conf: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The failover settings of one node's file, typed, with the defaults filled in; and which
    keys were defaulted."""
    settings = {key: _typed(key, conf[key]) if key in conf else default for key, default in REPMGR_DEFAULTS.items()}
    settings.update({key: conf[key] for key in REPMGR_COMMANDS if conf.get(key)})
    return settings, sorted(key for key in REPMGR_DEFAULTS if key not in conf)


def agreed(per_node: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """One value per key where every node's file says the same, else service -> value (an
    assumption on such a key holds only when every node's value does)."""
    keys = sorted({key for values in per_node.values() for key in values})
    out: dict[str, Any] = {}
    for key in keys:
        values = {service: values.get(key) for service, values in sorted(per_node.items())}
        distinct = {repr(v) for v in values.values()}
        out[key] = next(iter(values.values())) if len(distinct) == 1 else values
    return out


def conninfo_host(conninfo: str) -> str:
    """The `host=` of a libpq key/value conninfo ("" when it names none)."""
    try:
        words = shlex.split(conninfo)
    except ValueError:
        words = conninfo.split()
    for word in words:
        key, _, value = word.partition("=")
        if key.strip() == "host":
            return value.strip()
    return ""


@dataclass(frozen=True)
class Node:
    """One row of `repmgr.nodes`."""

    node_id: int
    name: str
    type: str  # primary | standby | witness | bdr
    upstream_id: int | None
    active: bool
    host: str  # of its conninfo: where the others reach it

    @property
    def upstream(self) -> int | None:
        return self.upstream_id


NODES_SQL = "SELECT node_id, node_name, type, upstream_node_id, active, conninfo FROM repmgr.nodes ORDER BY node_id"


def parse_nodes(rows: Iterable[Sequence[Any]]) -> list[Node]:
    return [Node(int(r[0]), text(r[1]), text(r[2]), int(r[3]) if r[3] is not None else None, bool(r[4]),
                 conninfo_host(text(r[5] or ""))) for r in rows]


@dataclass(frozen=True)
class Answer:
    """What one member said when asked `SELECT pg_is_in_recovery()`: True (a standby), False (a
    primary), None (no answer, with why)."""

    service: str
    in_recovery: bool | None
    error: str | None = None


def primaries(answers: Iterable[Answer]) -> list[str]:
    """The members that say they are a writable primary, sorted: two are a split brain."""
    return sorted(a.service for a in answers if a.in_recovery is False)


def standbys(answers: Iterable[Answer]) -> list[str]:
    return sorted(a.service for a in answers if a.in_recovery is True)


def place(nodes: Iterable[Node], service_of_host: Mapping[str, str | None], overrides: Mapping[str, str],
          known: Iterable[str]) -> dict[str, str | None]:
    """node name -> its service: the stack file's `members:`, else the service its conninfo's host
    is (`service_of_host`: host -> service, as the stack network knows it), else a service of the
    same name; None: none of these."""
    names = set(known)
    out: dict[str, str | None] = {}
    for node in nodes:
        if node.name in overrides:
            out[node.name] = overrides[node.name]
        elif service_of_host.get(node.host):
            out[node.name] = service_of_host[node.host]
        else:
            out[node.name] = node.name if node.name in names else None
    return out


@dataclass(frozen=True)
class Stream:
    """One row of the primary's pg_stat_replication (application_name is repmgr's node name)."""

    name: str
    state: str
    replay_lag_bytes: int
    replay_lag_s: float | None


def parse_streams(rows: Iterable[Sequence[Any]]) -> list[Stream]:
    """Rows of `drills.components._repmgr.STREAMS_SQL`."""
    return [Stream(text(r[0]), text(r[1]), int(r[2] or 0), float(r[3]) if r[3] is not None else None) for r in rows]


STREAMS_SQL = """
SELECT application_name, state, coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0)::bigint,
       extract(epoch FROM replay_lag)::float8
FROM pg_stat_replication ORDER BY application_name
"""


@dataclass(frozen=True)
class Cluster:
    """The cluster as its members say it is: each member's answer, and (from the one primary, when
    there is one) repmgr's nodes and who streams from it."""

    answers: tuple[Answer, ...]
    nodes: tuple[Node, ...] = ()
    streams: tuple[Stream, ...] = ()
    services: Mapping[str, str | None] | None = None  # node name -> service
    error: str | None = None  # why the primary's tables were not read

    @property
    def leader(self) -> str | None:
        """The one primary's service; None when none or several say they are."""
        found = primaries(self.answers)
        return found[0] if len(found) == 1 else None

    def node_of(self, service: str | None) -> str | None:
        return next((n for n, s in (self.services or {}).items() if s == service), None) if service else None

    def streaming(self) -> list[str]:
        """The services streaming from the primary (a name no service is placed on: the name)."""
        places = self.services or {}
        return sorted((places.get(s.name) or s.name) for s in self.streams if s.state == "streaming")


def readiness(cluster: Cluster, group: Sequence[str]) -> tuple[bool, str]:
    """Ready: one primary, and every other member of `group` streaming from it (what a drill's
    steady state needs, as for Patroni). The detail says who is missing."""
    leads = primaries(cluster.answers)
    silent = [f"{a.service} ({a.error})" if a.error else a.service for a in cluster.answers if a.in_recovery is None]
    if len(leads) != 1:
        said = f"primaries: {', '.join(leads)}" if leads else "no primary"
        return False, said + (f"; no answer from {', '.join(silent)}" if silent else "")
    leader = leads[0]
    if cluster.error is not None:
        return False, f"primary {leader}; {cluster.error}"
    streaming = cluster.streaming()
    missing = [s for s in group if s != leader and s not in streaming]
    detail = f"leader {leader}, streaming: {', '.join(streaming) or 'none'}"
    if missing:
        detail += f"; not streaming: {', '.join(missing)}"
    return not missing, detail
