"""The system's own events, read from its containers' logs: who promoted, who lost the lock, which
etcd member became leader, which RabbitMQ node went down, which balancer server was marked DOWN.

Pure: lines in, typed events out; nothing here talks to Docker (`drills.stack.logs` fetches the
logs and feeds them here). A drill's verdict says *that* writes were lost or a signal was down;
these events say what the system did meanwhile, on the same clock, so a report can show why.

    extractor = Extractor("pg1", origin=<wall-clock epoch of the drill's t=0>)
    for raw in docker_log_lines:                       # "2026-12-04T16:27:28.949433728Z <text>"
        event = extractor.feed(raw)                    # a SystemEvent (drills.core.events), or None

Each pattern is a real message of the software as it logs it (Patroni 3.0.2's `ha.py`, etcd
3.4's raft in capnslog or zap format, RabbitMQ 3.10's `rabbit_node_monitor` and quorum queues,
HAProxy's health checks, MongoDB's replication, nginx's and repmgr's), matched anywhere in the
line, so the logger's own prefix (time, level, pid) does not matter. The first pattern that
matches a line wins. Each component keeps its own (`Adapter.logs` in drills.components, or while
its adapter has not moved in, `registry.LEGACY_LOGS`): nothing here names one.

Noise is folded: Patroni logs `Lock owner: pg2; I am pg1` on every HA loop, HAProxy writes each
message twice (stderr and its `log stdout`). An occurrence is an event only when its subject
differs from the previous occurrence of the same kind on the same service, or that previous one
is older than the pattern's `repeat_s`: a lock owner is an event when it changes, a state that
lapsed and came back is an event again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from drills.components import registry
from drills.core.events import SystemEvent

# The docker log line with `timestamps=True`: RFC 3339 with nanoseconds, UTC, then one space.
_DOCKER_STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d) ")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # RabbitMQ colours its console log
MAX_LINE = 2000  # characters of a line an event keeps (a history line, not a log)

TRANSITION_S = 2.0  # the same transition twice within this: one event logged twice (a balancer's)


@dataclass(frozen=True)
class Pattern:
    """One message of one piece of software. `subject`: the regex group (number) naming what the
    event is about (a node, a server, a lock owner), 0 for none."""

    component: str  # the software that logs it (a LogPattern's `software`)
    kind: str
    regex: re.Pattern[str]
    subject: int = 0
    repeat_s: float = TRANSITION_S


# Every component's patterns, from its adapter or, while it has none, from the registry's legacy
# table (drills.components.registry.log_patterns): tried in that order, the first match wins.
PATTERNS: tuple[Pattern, ...] = tuple(Pattern(p.software, p.kind, p.regex, p.subject, p.repeat_s)
                                      for p in registry.log_patterns())

# How a report groups kinds (colour, legend): the system gained a leader or a member, or lost one.
GAINED = frozenset({"promoted", "lock-taken", "leader-restart", "leader-elected", "queue-leader", "node-up",
                    "server-up"})
LOST = frozenset({"demoted", "leader-lost", "partition", "paused", "node-down", "server-down", "backend-down",
                  "dcs-unreachable", "lock-released", "connect-failed", "timed-out"})


def stamp_end(raw: str) -> int:
    """Where the docker timestamp of a log line ends (after its space); 0 when it has none."""
    m = _DOCKER_STAMP.match(raw)
    return m.end() if m else 0


def split_stamp(raw: str) -> tuple[float | None, str]:
    """A docker log line -> (its timestamp as a Unix epoch, the text). (None, raw) without one."""
    m = _DOCKER_STAMP.match(raw)
    if not m:
        return None, raw
    whole, frac, zone = m.groups()
    zone = "+00:00" if zone == "Z" else zone
    epoch = datetime.fromisoformat(whole + zone).timestamp() + (float(frac) if frac else 0.0)
    return epoch, raw[m.end():]


def classify(text: str) -> tuple[Pattern, str] | None:
    """The first pattern a line of text matches, and its subject ("" when the pattern has none)."""
    clean = _ANSI.sub("", text).rstrip()
    for pattern in PATTERNS:
        m = pattern.regex.search(clean)
        if m:
            subject = m.group(pattern.subject).strip() if pattern.subject else ""
            return pattern, subject
    return None


class Extractor:
    """The events of one service's log, fed line by line in the log's order. `origin`: the Unix
    epoch of the drill's t=0 (its monotonic clock), so an event's `at` is on the history's clock."""

    def __init__(self, service: str, origin: float) -> None:
        self.service, self.origin = service, origin
        self._last: dict[str, tuple[str, float]] = {}  # kind -> (subject, at) of its last occurrence
        self.folded = 0  # occurrences that repeated an event (not events themselves)

    def feed(self, raw: str) -> SystemEvent | None:
        epoch, text = split_stamp(raw)
        if epoch is None:
            return None
        found = classify(text)
        if found is None:
            return None
        pattern, subject = found
        at = epoch - self.origin
        last = self._last.get(pattern.kind)
        self._last[pattern.kind] = (subject, at)
        if last is not None and last[0] == subject and at - last[1] <= pattern.repeat_s:
            self.folded += 1
            return None
        line = _ANSI.sub("", text).strip()
        if len(line) > MAX_LINE:
            line = line[:MAX_LINE] + f" ...[{len(line) - MAX_LINE} characters cut]"
        return SystemEvent(round(at, 6), self.service, pattern.component, pattern.kind, subject, line)
