"""When, per RabbitMQ's own logs, each node finished booting and each quorum queue got its Raft
servers: the order that decides whether a queue survives the cluster's boot
(drills.components._rabbitmq_api explains the trap)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\+00:00 ")
LISTENER = "started TCP listener on [::]:5672"  # one of the last boot steps, after the tables load


def _stamped(log: str) -> list[tuple[datetime, str]]:
    out = []
    for line in _ANSI.sub("", log).splitlines():
        m = _STAMP.match(line)
        if m:
            out.append((datetime.fromisoformat(m.group(1)), line[m.end():]))
    return out


def booted_at(log: str) -> datetime | None:
    """When the node's AMQP listener first started (None: never, in this log)."""
    return next((t for t, text in _stamped(log) if LISTENER in text), None)


def raft_first_seen(logs: Mapping[str, str], queue: str) -> datetime | None:
    """The first line of any node about one of `queue`'s Raft servers (vhost /): its declaration.
    A refused passive declaration (`no queue 'q' in vhost '/'`) is not one."""
    marks = (f"queue '{queue}' in vhost '/': ", f"%2F_{queue}")
    seen = [t for log in logs.values() for t, text in _stamped(log) if any(m in text for m in marks)]
    return min(seen, default=None)


def declared_too_early(logs: Mapping[str, str], queues: tuple[str, ...]) -> list[str]:
    """Why each queue was (or cannot be shown not to have been) declared before every node had
    finished booting; empty when each was declared after. `logs`: node service -> its log."""
    problems = []
    booted = {node: booted_at(log) for node, log in logs.items()}
    never = sorted(node for node, t in booted.items() if t is None)
    if never:
        problems.append(f"no `{LISTENER}` in the log of {', '.join(never)}")
    for queue in queues:
        first = raft_first_seen(logs, queue)
        if first is None:
            problems.append(f"{queue}: no Raft server in any log")
            continue
        early = sorted(node for node, t in booted.items() if t is not None and t >= first)
        if early:
            problems.append(f"{queue}: declared at {first.time()}, before {', '.join(early)} finished booting")
    return problems
