"""The history of a drill: every operation the workload attempted, and the drill's own events.

This is the only thing passed from running to checking (Jepsen's discipline): checkers are pure
functions over it. Each operation ends `ok` (it happened), `fail` (it did not) or `info` (unknown:
e.g. the connection dropped after the write was sent). Times are seconds since the drill started,
from the monotonic clock.

On disk it is JSON lines (`history.jsonl`), one object per line, ops and events interleaved in the
order they were recorded (not sorted: an op is recorded when it *ends*):

    {"t":"op","signal":"postgres.write","process":0,"kind":"write","value":17,
     "start":1.02,"end":1.031,"outcome":"ok","error":null}
    {"t":"event","name":"fault","at":5.41,"data":{"kind":"kill","target":"postgres.leader","resolved":["pg2"]}}

This module is the format: an event here is a name, a time and a data object, whatever its kind.
What the events are (the phases, the faults applied, the leaders sampled, the backups, what the
system logged) is declared, written and read back in `drills.core.events`; nothing here names one.
"""

from __future__ import annotations

import enum
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol, TextIO

from drills.core.errors import HarnessError

# What an op is about: a sequence number, a message id. JSON scalars only, so a value read back
# from the file is equal (and hashable) to the one recorded, and sets of values can be compared.
Value = int | str | None


class Outcome(enum.Enum):
    OK = "ok"  # it happened (acknowledged)
    FAIL = "fail"  # it certainly did not happen
    INFO = "info"  # indeterminate: it may or may not have happened


@dataclass(frozen=True, slots=True)
class Op:
    signal: str  # e.g. postgres.write, rabbitmq.publish, rabbitmq.consume, http.dashboard, e2e.notify
    process: int  # which client process of the signal
    kind: str  # write, read, publish, consume, probe, session, open
    value: Value
    start: float  # seconds since the drill started (monotonic)
    end: float
    outcome: Outcome
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_json(self) -> dict[str, Any]:
        return {"t": "op", "signal": self.signal, "process": self.process, "kind": self.kind, "value": self.value,
                "start": round(self.start, 6), "end": round(self.end, 6), "outcome": self.outcome.value,
                "error": self.error}


@dataclass(frozen=True, slots=True)
class Event:
    """One of the drill's own events as recorded: its kinds are `drills.core.events`'."""

    name: str
    at: float
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"t": "event", "name": self.name, "at": round(self.at, 6), "data": self.data}


class Recorder(Protocol):
    """Where the workload and the runner record to: `History` (a file) or `MemoryHistory` (tests)."""

    def append(self, op: Op) -> None: ...
    def event(self, name: str, at: float, **data: Any) -> Event: ...


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record, separators=(",", ":"), default=str) + "\n"


class History:
    """Append-only, thread-safe, written through to JSON lines.

    Ops are not kept in memory: at 1 000 ops/s a long drill would grow without bound, and the
    checkers read the file back once the drill is over. Lines go to a 64 KiB buffer, flushed every
    `FLUSH_EVERY` ops or `FLUSH_INTERVAL_S` seconds (whichever comes first) so a crashed runner
    leaves at most that much unwritten; events are flushed at once (rare, and they matter most).
    """

    FLUSH_EVERY = 512
    FLUSH_INTERVAL_S = 1.0

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: TextIO = path.open("w", buffering=1 << 16, encoding="utf-8")
        self._lock = threading.Lock()
        self._pending = 0
        self._flushed_at = time.monotonic()
        self.counts: dict[str, int] = {}  # "signal:outcome" -> ops, for live progress
        self.watchers: list[Callable[[Op], None]] = []  # told of each op as it is recorded (`Sustained`)

    def append(self, op: Op) -> None:
        line = _line(op.to_json())  # serialised outside the lock: client threads do not queue on it
        key = f"{op.signal}:{op.outcome.value}"
        with self._lock:
            if self._fh.closed:
                raise HarnessError(f"history {self.path} is closed; an op arrived after the drill ended")
            self._fh.write(line)
            self.counts[key] = self.counts.get(key, 0) + 1
            self._pending += 1
            if self._pending >= self.FLUSH_EVERY or time.monotonic() - self._flushed_at >= self.FLUSH_INTERVAL_S:
                self._flush_locked()
        for watch in self.watchers:
            watch(op)

    def event(self, name: str, at: float, **data: Any) -> Event:
        ev = Event(name, at, data)
        line = _line(ev.to_json())
        with self._lock:
            if self._fh.closed:
                raise HarnessError(f"history {self.path} is closed; event {name!r} arrived after the drill ended")
            self._fh.write(line)
            self._flush_locked()
        return ev

    def flush(self) -> None:
        with self._lock:
            if not self._fh.closed:
                self._flush_locked()

    def _flush_locked(self) -> None:
        self._fh.flush()
        self._pending = 0
        self._flushed_at = time.monotonic()

    def close(self) -> None:
        with self._lock:
            if not self._fh.closed:
                self._fh.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class MemoryHistory:
    """The in-memory recorder: the same interface as `History`, for tests and fakes."""

    def __init__(self) -> None:
        self.ops: list[Op] = []
        self.events: list[Event] = []
        self._lock = threading.Lock()

    def append(self, op: Op) -> None:
        with self._lock:
            self.ops.append(op)

    def event(self, name: str, at: float, **data: Any) -> Event:
        ev = Event(name, at, data)
        with self._lock:
            self.events.append(ev)
        return ev


# ---- reading back -------------------------------------------------------------------------------


class Loaded(NamedTuple):
    """A history read back: `ops, events = load(path)`."""

    ops: list[Op]
    events: list[Event]


def _value(raw: Any) -> Value:
    if raw is None or isinstance(raw, int | str):
        return raw
    return json.dumps(raw, sort_keys=True)  # a float or a structure: kept comparable and hashable


def parse(lines: Iterable[str], *, source: str = "history") -> Iterator[Op | Event]:
    """Records of a history file. Only its *last* line may be damaged (a runner killed mid-write):
    that one is skipped; a damaged line before it is an error, since skipping it would hide ops."""
    # One string object per distinct signal/kind/error: a long history repeats them ~10^6 times.
    strings: dict[str, str] = {}

    def intern(s: str) -> str:
        return strings.setdefault(s, s)

    damaged: tuple[int, str] | None = None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if damaged is not None:
            raise HarnessError(f"{source}:{damaged[0]}: damaged record {damaged[1][:80]!r}",
                               hint="the history file was edited or the disk failed; it cannot be checked")
        try:
            rec = json.loads(line)
            if rec.get("t") == "event":
                yield Event(intern(rec["name"]), float(rec["at"]), rec.get("data") or {})
            else:
                error = rec.get("error")
                yield Op(intern(rec["signal"]), int(rec["process"]), intern(rec["kind"]), _value(rec["value"]),
                         float(rec["start"]), float(rec["end"]), Outcome(rec["outcome"]),
                         None if error is None else intern(str(error)))
        except (ValueError, KeyError, TypeError, AttributeError):
            damaged = (number, line)


def load(path: Path) -> Loaded:
    """Every op and event of a history file, in file order."""
    ops: list[Op] = []
    events: list[Event] = []
    with path.open(encoding="utf-8") as fh:
        for item in parse(fh, source=str(path)):
            if isinstance(item, Event):
                events.append(item)
            else:
                ops.append(item)
    return Loaded(ops, events)


def load_ops(path: Path) -> list[Op]:
    return load(path).ops


# ---- watching the history as it is recorded --------------------------------------------------


class Sustained:
    """Whether a signal has been served, sustained, since a moment (`since`, moved with `restart`):
    `sustain_ops` ok ops in a row whose starts span `sustain_s`. Told of each op as the history
    records it (`History.watchers`), so the runner knows, while the drill runs, when it has watched
    long enough for a checker to judge "back after the heal"; the checker itself reads the whole
    history afterwards. An op that is not ok (failed, indeterminate) breaks the run."""

    def __init__(self, signal: str, *, sustain_s: float, sustain_ops: int = 1) -> None:
        self.signal, self.sustain_s, self.sustain_ops = signal, sustain_s, sustain_ops
        self._lock = threading.Lock()
        self.since: float | None = None
        self._run_start: float | None = None
        self._run_ops = 0
        self.back_at: float | None = None

    def restart(self, since: float) -> None:
        with self._lock:
            self.since, self._run_start, self._run_ops, self.back_at = since, None, 0, None

    def __call__(self, op: Op) -> None:
        if op.signal != self.signal:
            return
        with self._lock:
            if self.since is None or op.start < self.since or self.back_at is not None:
                return
            if not op.ok:
                self._run_start, self._run_ops = None, 0
                return
            if self._run_start is None:
                self._run_start = op.start
            self._run_ops += 1
            if self._run_ops >= self.sustain_ops and op.start - self._run_start >= self.sustain_s:
                self.back_at = op.end

    @property
    def back(self) -> bool:
        return self.back_at is not None

