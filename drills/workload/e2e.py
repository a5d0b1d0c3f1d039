"""e2e.notify: scheduled test runs keep producing notifications at the SMTP sink.

The whole chain (scheduler -> RabbitMQ -> workers -> MongoDB -> mailer -> SMTP) either delivers
mail or it does not; the policy's "will stop executing scheduled tests and will not send
notifications" is about exactly that. Each probe reads the sink's message count (`GET /messages`)
and is `ok` when the count grew within the last `window_s` seconds, `fail` otherwise (and before
the first new message is seen: a chain that never delivered is not working). The window must
exceed the scheduler's interval, or a healthy chain fails between two runs.

Arrival times are the probe's own clock (the count grew between two probes), never the sink's
timestamps: no clock skew between host and containers, and nothing assumed of the sink's JSON
but a list of messages.

The sink is the stack's `smtp-sink` (fixtures/images/app/drills_app/smtp_sink.py): `GET /messages`
on port 8025 answers `{"count": N, "messages": [...]}`. The scheduler publishes a run every 2 s
(DRILLS_SCHEDULE_INTERVAL_S) and two workers execute them, so a healthy chain delivers a mail
about every 2 s; a window of 8 s (four intervals) tells a stopped chain from a slow one within
seconds. A probe needs no more than 1-2 ops/s (the count grows all drill long).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from drills.workload.base import Result, error_text
from drills.workload.http import build_opener, request

SINK_SERVICE = "smtp-sink"
SINK_HTTP_PORT = 8025
DEFAULT_WINDOW_S = 8.0


def message_count(doc: Any) -> int:
    """How many messages the sink holds, from the JSON of `GET /messages`."""
    if isinstance(doc, list):
        return len(doc)
    if isinstance(doc, dict):
        for key in ("count", "total"):
            if isinstance(doc.get(key), int) and not isinstance(doc.get(key), bool):
                return int(doc[key])
        for key in ("messages", "items"):
            if isinstance(doc.get(key), list):
                return len(doc[key])
    raise ValueError(f"unexpected /messages answer: {str(doc)[:80]}")


@dataclass(frozen=True)
class SinkTarget:
    url: str  # http://127.0.0.1:<port>/messages
    window_s: float = DEFAULT_WINDOW_S
    timeout_s: float = 2.0


class NotificationWatch:
    kind = "probe"

    def __init__(self, target: SinkTarget, now: Callable[[], float] = time.monotonic) -> None:
        self.target = target
        self._now = now
        self._opener = build_opener()
        self._count: int | None = None
        self._last_new: float | None = None  # when the count was last seen to grow

    def open(self) -> None:
        """Nothing to keep open."""

    def observe(self, count: int, at: float) -> None:
        """Track arrivals. A count that went down is a sink that restarted empty: a new baseline."""
        if self._count is not None and count > self._count:
            self._last_new = at
        self._count = count

    def verdict(self, seq: int, at: float) -> Result:
        if self._last_new is None:
            return Result.fail(seq, "no new notification seen yet")
        quiet = at - self._last_new
        if quiet <= self.target.window_s:
            return Result.ok(seq)
        return Result.fail(seq, f"no new notification for {quiet:.0f} s")

    def invoke(self, seq: int) -> Result:
        try:
            status, body = request(self._opener, self.target.url, timeout_s=self.target.timeout_s)
        except OSError as exc:
            return Result.fail(seq, "sink: " + error_text(exc))
        if status != 200:
            return Result.fail(seq, f"sink: HTTP {status}")
        try:
            count = message_count(json.loads(body))
        except ValueError as exc:
            return Result.fail(seq, "sink: " + error_text(exc))
        at = self._now()
        self.observe(count, at)
        return self.verdict(seq, at)

    def close(self) -> None:
        pass
