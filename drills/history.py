"""The history of a drill: every operation the workload attempted, and the drill's own events.

This is the only thing passed from running to checking (Jepsen's discipline): checkers are pure
functions over it. Each operation ends `ok` (it happened), `fail` (it did not) or `info` (unknown:
e.g. the connection dropped after the write was sent). Times are seconds since the drill started,
from the monotonic clock.

On disk it is JSON lines (`history.jsonl`), one object per line, ops and events interleaved:

    {"t": "op", "signal": "postgres.write", "process": 0, "kind": "write", "value": 17,
     "start": 1.02, "end": 1.031, "outcome": "ok", "error": null}
    {"t": "event", "name": "inject", "at": 5.0, "data": {"kind": "kill", "target": "pg1"}}
"""

from __future__ import annotations

import enum
import json
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO


class Outcome(enum.Enum):
    OK = "ok"
    FAIL = "fail"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Op:
    signal: str  # e.g. postgres.write, rabbitmq.publish, rabbitmq.consume, http.dashboard, e2e.notify
    process: int  # which client of the signal
    kind: str  # write, read, publish, consume, probe, session
    value: Any  # a sequence number, message id, ... (JSON-serialisable)
    start: float
    end: float
    outcome: Outcome
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    def to_json(self) -> dict[str, Any]:
        return {"t": "op", "signal": self.signal, "process": self.process, "kind": self.kind, "value": self.value,
                "start": round(self.start, 6), "end": round(self.end, 6), "outcome": self.outcome.value,
                "error": self.error}


@dataclass(frozen=True, slots=True)
class Event:
    """Something the drill did: a phase began, a fault was injected or healed."""

    name: str
    at: float
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"t": "event", "name": self.name, "at": round(self.at, 6), "data": self.data}


class History:
    """Append-only, thread-safe, written through to JSON lines.

    Ops are not kept in memory: at 1 000 ops/s a long drill would grow without bound, and the
    checkers read the file back once the drill is over.
    """

    FLUSH_EVERY = 256

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: TextIO = path.open("w", buffering=1 << 16)
        self._lock = threading.Lock()
        self._pending = 0
        self.counts: dict[str, int] = {}  # ops per signal/outcome, for live progress

    def append(self, op: Op) -> None:
        line = json.dumps(op.to_json(), separators=(",", ":"))
        key = f"{op.signal}:{op.outcome.value}"
        with self._lock:
            self._fh.write(line + "\n")
            self.counts[key] = self.counts.get(key, 0) + 1
            self._pending += 1
            if self._pending >= self.FLUSH_EVERY:
                self._fh.flush()
                self._pending = 0

    def event(self, name: str, at: float, **data: Any) -> Event:
        ev = Event(name, at, data)
        with self._lock:
            self._fh.write(json.dumps(ev.to_json(), separators=(",", ":")) + "\n")
            self._fh.flush()  # events are rare and matter most when the runner crashes
        return ev

    def close(self) -> None:
        with self._lock:
            if not self._fh.closed:
                self._fh.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def parse(lines: Iterable[str]) -> Iterator[Op | Event]:
    for line in lines:
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue  # the last line of a history cut short by a crash
        if rec.get("t") == "event":
            yield Event(rec["name"], float(rec["at"]), rec.get("data") or {})
        else:
            yield Op(rec["signal"], int(rec["process"]), rec["kind"], rec["value"], float(rec["start"]),
                     float(rec["end"]), Outcome(rec["outcome"]), rec.get("error"))


def load(path: Path) -> tuple[list[Op], list[Event]]:
    ops: list[Op] = []
    events: list[Event] = []
    with path.open() as fh:
        for item in parse(fh):
            (events if isinstance(item, Event) else ops).append(item)  # type: ignore[arg-type]
    return ops, events
