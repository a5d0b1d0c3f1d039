"""The effective configuration in words: one line per part, for `drill stack status` and the report.

    PostgreSQL 15.18, Patroni 3.0.2, 3 members: synchronous_mode on (strict off), synchronous_commit on,
        ttl 10 s, loop_wait 2 s, retry_timeout 3 s, ...; now leader pg1, sync_standby pg2, replica pg3
    RabbitMQ 3.10.8 (Erlang 25.2.3), 3 nodes, 3 running: net_ticktime 10 s, cluster_partition_handling
        pause_minority; queues notifications quorum (3 members, leader rabbit2), ...

A part not read says NOT READ and why; an item of a part that could not be read says "not read"
with why; a value the DCS does not hold says it is Patroni's default. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drills.components import registry
from drills.core.effective_config import ABSENT, NOT_READ, PARTS, EffectiveConfig, Part

LABELS = {"postgres": "PostgreSQL", "rabbitmq": "RabbitMQ", "mongo": "MongoDB", "balancer": "Balancer",
          "instances": "Instances"}
_UNITS = {"ttl": " s", "loop_wait": " s", "retry_timeout": " s", "maximum_lag_on_failover": " B"}


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if value is None:
        return "none"
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {_value(v)}" for k, v in value.items())
    return str(value)


def _gaps(part: Part) -> str:
    return "".join(f"; {item} not read: {why}" for item, why in part.not_read.items())


def postgres_text(part: Part) -> str:
    """Patroni's settings; a PostgreSQL another manager runs (its part says which:
    `settings.adapter`) in that adapter's words."""
    adapter = registry.ADAPTERS.get(str(part.settings.get("adapter")))
    if adapter is not None and adapter.effective is not None:
        return adapter.effective.describe(part)
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
        text = f"{key} {_value(patroni.get(key))}{_UNITS.get(key, '')}"
        return text + (" (Patroni default)" if key in defaulted else "")

    items = [setting("synchronous_mode")]
    if patroni.get("synchronous_mode"):
        items.append(setting("synchronous_mode_strict"))
    if "synchronous_commit" in pg:
        items.append(f"synchronous_commit {pg['synchronous_commit']}")
    items += [setting(k) for k in ("ttl", "loop_wait", "retry_timeout", "maximum_lag_on_failover")]
    items += [f"{k} {_value(v)}" for k, v in (s.get("postgresql") or {}).items()]
    now = ", ".join(f"{m['role']} {_member(m)}" for m in st.get("members") or [])
    return f"{head}: {', '.join(items)}" + (f"; now {now}" if now else "") + _gaps(part)


def _member(member: Mapping[str, Any]) -> str:
    """A Patroni member, with its service where the names differ (pgnode-a (db-1))."""
    service = member.get("service")
    return f"{member['name']} ({service})" if service and service != member["name"] else str(member["name"])


def rabbitmq_text(part: Part) -> str:
    s, st = part.settings, part.state
    head = "RabbitMQ" + (f" {s['version']}" if s.get("version") else "")
    head += f" (Erlang {s['erlang']})" if s.get("erlang") else ""
    nodes = s.get("nodes") or []
    head += f", {len(nodes)} nodes, {len(st.get('running') or [])} running"
    items = []
    if "net_ticktime_s" in s:
        items.append(f"net_ticktime {_value(s['net_ticktime_s'])} s")
    if "cluster_partition_handling" in s:
        items.append(f"cluster_partition_handling {s['cluster_partition_handling']}")
    queues = []
    queue_state: Mapping[str, Any] = st.get("queues") or {}
    for name, q in (s.get("queues") or {}).items():
        detail = [f"{q['members']} members"] if q.get("members") is not None else []
        leader = (queue_state.get(name) or {}).get("leader")
        if q.get("type") == "classic":  # lives on one node, which leads nothing
            detail.append(f"on {leader}" if leader else "no node")
        else:
            detail.append(f"leader {leader}" if leader else "no leader")
        queues.append(f"{name} {q.get('type')} ({', '.join(detail)})")
    text = f"{head}: {', '.join(items)}" if items else head
    return text + (f"; queues {', '.join(queues)}" if queues else "; no queue declared") + _gaps(part)


def mongo_text(part: Part) -> str:
    s, st = part.settings, part.state
    head = "MongoDB" + (f" {s['version']}" if s.get("version") else "")
    states = ", ".join(f"{m['state']} {m['member']}" for m in st.get("members") or [])
    return f"{head}, replica set {s.get('replica_set')} of {s.get('members')} members: {states}" + _gaps(part)


def balancer_text(part: Part) -> str:
    """HAProxy's backends as its stats list them; a balancer whose adapter is in drills.components
    (its part says which: `settings.adapter`) in that adapter's words."""
    adapter = registry.ADAPTERS.get(str(part.settings.get("adapter")))
    if adapter is not None and adapter.effective is not None:
        return adapter.effective.describe(part)
    s, backends = part.settings, (part.state.get("backends") or {})
    shown = ", ".join(f"{server} {backends.get(server, 'not listed')}" for server in s.get("servers") or [])
    return f"{s.get('balancer')}, backend {s.get('backend')}: {shown}" + _gaps(part)


def instances_text(part: Part) -> str:
    defined: Mapping[str, Any] = part.settings.get("defined") or {}
    running: Mapping[str, Any] = part.state.get("running") or {}
    items = []
    for role in sorted(set(defined) | set(running), key=lambda r: (-(defined.get(r) or 0), r)):
        d, r = defined.get(role), running.get(role, 0)
        if d is None:
            items.append(f"{role} {r} running")
        else:
            items.append(f"{role} {d}" + ("" if r == d else f" ({r} running)"))
    images = "; ".join(f"{image} x{len(services)}" for image, services in (part.settings.get("images") or {}).items())
    return f"{', '.join(items)}" + (f"; images {images}" if images else "") + _gaps(part)


_TEXT = {"postgres": postgres_text, "rabbitmq": rabbitmq_text, "mongo": mongo_text, "balancer": balancer_text,
         "instances": instances_text}


def part_text(name: str, part: Part) -> str:
    if part.status == NOT_READ:
        return f"NOT READ: {part.reason}"
    if part.status == ABSENT:
        return f"absent: {part.reason}" if part.reason else "absent"
    try:
        return _TEXT[name](part)
    except (AttributeError, KeyError, TypeError) as exc:  # a journal written by hand or by another version
        return f"NOT READ: recorded in a shape this version cannot show ({type(exc).__name__}: {exc})"


def stack_text(stack: Mapping[str, Any]) -> str:
    if "not_read" in stack:
        return f"NOT READ: {stack['not_read']}"
    files = ", ".join(str(f) for f in stack.get("compose_files") or [])
    return f"{stack.get('name')} ({stack.get('file')}); Compose files {files}"


def lines(config: EffectiveConfig) -> list[tuple[str, str]]:
    """(label, text) per part, every part: one not read says so; first the stack file it came from,
    where recorded."""
    head = [("Stack", stack_text(config.stack))] if config.stack else []
    return head + [(LABELS[name], part_text(name, config.part(name))) for name in PARTS]
