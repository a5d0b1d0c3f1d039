"""Clients and the pacer that drives them (Jepsen's client: open, invoke, close).

A signal (postgres.write, rabbitmq.publish, ...) is served by N client *processes*, each a thread
with its own `Client`. The pacer gives the signal a fixed grid of start times (`rate` per second
for the whole signal, interleaved across its processes) and each process starts its next op on
its next grid slot. A slow op never shifts the grid: the op after it starts at once, late, in the
last slot the slow op reached, and the slots it overran entirely are skipped (and counted). So an
op of 25 ms at 50 ops/s costs no throughput, and after a 6 s connect timeout the signal resumes
at its rate instead of bursting to catch up. There is never more than one op in flight per
process.

Every op ends in the history as `ok`, `fail` or `info` (`drills.core.history.Outcome`), stamped with
`time.monotonic() - t0` of the drill. An op that raises something the client did not classify is
recorded as `info` (we do not know whether it happened) and the client is closed, so the next op
reconnects; the thread lives on.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from drills.core.history import Op, Outcome

log = logging.getLogger(__name__)

Sink = Callable[[Op], None]  # where ops go: `History.append`
Clock = Callable[[], float]  # seconds since the drill started

DEFAULT_RATE = 50.0  # ops/s per signal: one op every 20 ms
DEFAULT_OP_TIMEOUT_S = 5.0  # after this an op is abandoned as `info` (see Watchdog)


def clock_from(t0: float) -> Clock:
    """The drill's clock: `time.monotonic()` seconds since `t0` (itself a `time.monotonic()`)."""
    return lambda: time.monotonic() - t0


@dataclass(frozen=True, slots=True)
class Result:
    """What one invocation came to. `value` is what the checkers match on (a seq, a message id)."""

    outcome: Outcome
    value: Any
    error: str | None = None

    @classmethod
    def ok(cls, value: Any) -> Result:
        return cls(Outcome.OK, value)

    @classmethod
    def fail(cls, value: Any, error: str) -> Result:
        return cls(Outcome.FAIL, value, error)

    @classmethod
    def info(cls, value: Any, error: str) -> Result:
        return cls(Outcome.INFO, value, error)


class Client(Protocol):
    """One client process of a signal.

    `open` prepares the client; it must not raise because the system is unreachable (clients
    connect lazily in `invoke` and reconnect on the next op after a loss). `invoke` performs one
    op and classifies it; it should not raise. `close` drops any connection and is idempotent:
    `invoke` after `close` reconnects.
    """

    kind: str  # the op kind recorded: write, publish, probe, session

    def open(self) -> None: ...
    def invoke(self, seq: int) -> Result: ...
    def close(self) -> None: ...


C = TypeVar("C")


class Clients(Generic[C]):
    """The clients a signal makes, one per process (`client` is what `SignalRunner` calls), kept so
    that the signal can end them all once the drill is over (`close`)."""

    def __init__(self, make: Callable[[int], C], end: Callable[[C], None]) -> None:
        self._make = make
        self._end = end
        self._made: list[C] = []

    def client(self, process: int) -> C:
        made = self._make(process)
        self._made.append(made)
        return made

    def close(self) -> None:
        for made in self._made:
            self._end(made)


def error_text(exc: BaseException, limit: int = 300) -> str:
    """`Type: first line of the message`, short enough for a history line."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return text[:limit]


# ---- pacing -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Grid:
    """The start times of one process: `origin + offset + k * period`, k = 0, 1, 2, ...

    With `processes` clients at `rate` ops/s for the signal, each has period `processes / rate`
    and offset `index / rate`: together they fill the signal's grid of 1/rate.
    """

    origin: float
    period: float
    offset: float = 0.0

    @classmethod
    def for_process(cls, origin: float, rate: float, processes: int, index: int) -> Grid:
        if rate <= 0 or processes < 1 or not 0 <= index < processes:
            raise ValueError(f"bad grid: rate={rate}, processes={processes}, index={index}")
        return cls(origin, processes / rate, index / rate)

    @property
    def first(self) -> float:
        return self.origin + self.offset

    def at_or_after(self, t: float) -> float:
        """The first slot at or after `t`."""
        if t <= self.first:
            return self.first
        # The epsilon keeps a `t` that is a slot, up to float error, on that slot.
        k = math.ceil((t - self.first) / self.period - 1e-9)
        return self.first + k * self.period

    def at_or_before(self, t: float) -> float:
        """The last slot at or before `t` (the first slot when `t` precedes it)."""
        if t <= self.first:
            return self.first
        k = math.floor((t - self.first) / self.period + 1e-9)
        return self.first + k * self.period

    def next_after(self, slot: float, ended: float) -> tuple[float, int]:
        """The slot of the op after one that started at `slot` and ended at `ended`, and how many
        slots in between it overran entirely (skipped).

        Within its period: the next slot. Later: the last slot the op reached, already due, so the
        next op starts at once, late, and the grid goes on from there."""
        nxt = slot + self.period
        if ended > nxt:
            nxt = max(nxt, self.at_or_before(ended))
        skipped = round((nxt - slot) / self.period) - 1
        return nxt, max(0, skipped)


class Slots:
    """The slots of one process on its grid. `take(now)` says whether a slot is due and moves on;
    when the loop is late by more than a period it keeps only the last due slot and counts the
    others as skipped (no burst to catch up)."""

    def __init__(self, grid: Grid) -> None:
        self.grid = grid
        self.next = grid.first
        self.skipped = 0

    def take(self, now: float) -> bool:
        # Due up to float error, by the same tolerance as `Grid.at_or_before` (a billionth of a
        # period): otherwise a `now` that is a slot but for rounding was neither taken nor skipped.
        if (self.next - now) / self.grid.period > 1e-9:
            return False
        due = max(self.next, self.grid.at_or_before(now))
        self.skipped += max(0, round((due - self.next) / self.grid.period))
        self.next = due + self.grid.period
        return True

    def wait(self, now: float) -> float:
        """Seconds until the next slot (0 when due)."""
        return max(0.0, self.next - now)


class SeqCounter:
    """Sequence numbers shared by the processes of a signal: each op gets a value never used before."""

    def __init__(self, start: int = 0) -> None:
        self._next = start
        self._lock = threading.Lock()

    def __call__(self) -> int:
        with self._lock:
            value = self._next
            self._next += 1
            return value


class Watchdog:
    """Fires `action` if the op it was armed for is still running at the deadline.

    Timeouts of the client libraries do not cover a *frozen* server (`docker pause`): its kernel
    keeps ACKing TCP, so neither keepalives nor tcp_user_timeout notice, and a read blocks for as
    long as the pause lasts. The action is typically `socket.shutdown` of the client's socket:
    the library's blocked read then fails at once, as on a lost connection, and the op is `info`.
    One watchdog thread per client process, started on first use.
    """

    def __init__(self, name: str = "watchdog") -> None:
        self._cond = threading.Condition()
        self._deadline: float | None = None
        self._action: Callable[[], None] | None = None
        self._fired = False
        self._closed = False
        self._name = name
        self._thread: threading.Thread | None = None

    def arm(self, timeout_s: float, action: Callable[[], None]) -> None:
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._deadline = time.monotonic() + timeout_s
            self._action = action
            self._fired = False
            self._cond.notify()

    def disarm(self) -> bool:
        """True when the action fired (the op timed out)."""
        with self._cond:
            self._deadline = None
            self._action = None
            return self._fired

    def close(self, timeout_s: float = 1.0) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)

    def _run(self) -> None:
        with self._cond:
            while not self._closed:
                if self._deadline is None:
                    self._cond.wait()
                    continue
                remaining = self._deadline - time.monotonic()
                if remaining > 0:
                    self._cond.wait(remaining)
                    continue
                action, self._action, self._deadline = self._action, None, None
                self._fired = True
                if action is not None:
                    try:
                        action()
                    except Exception:  # the socket may already be gone: the op ends by itself
                        log.debug("watchdog action failed", exc_info=True)


# ---- running a signal ---------------------------------------------------------------------------


@dataclass
class ProcessStats:
    ops: int = 0
    skipped_slots: int = 0  # grid slots an overrunning op made us skip
    unexpected: int = 0  # ops whose exception the client did not classify


class SignalRunner:
    """Runs the client processes of one signal at `rate` ops/s until `stop()`.

        runner = SignalRunner("postgres.write", lambda i: PostgresClient(cfg, i), sink, clock)
        runner.start(); ...; runner.stop()

    `make_client(i)` builds process i's client. `first_ok` turns true at the first ok op (the
    warm-up waits for it).
    """

    def __init__(self, signal: str, make_client: Callable[[int], Client], sink: Sink, clock: Clock, *,
                 rate: float = DEFAULT_RATE, processes: int = 1, seq: SeqCounter | None = None,
                 stop_event: threading.Event | None = None) -> None:
        if rate <= 0 or processes < 1:
            raise ValueError(f"{signal}: rate must be > 0 and processes >= 1 (got {rate}, {processes})")
        self.signal = signal
        self.rate = rate
        self.processes = processes
        self._make_client = make_client
        self._sink = sink
        self._clock = clock
        self._seq = seq or SeqCounter()
        self._stop = stop_event or threading.Event()
        self._threads: list[threading.Thread] = []
        self.stats = [ProcessStats() for _ in range(processes)]
        self.first_ok = threading.Event()
        self._sink_failed = False
        self._open_failed: set[int] = set()

    def start(self) -> None:
        origin = self._clock()
        for i in range(self.processes):
            grid = Grid.for_process(origin, self.rate, self.processes, i)
            t = threading.Thread(target=self._run, args=(i, grid), name=f"{self.signal}[{i}]", daemon=True)
            self._threads.append(t)
            t.start()

    def stop(self, timeout_s: float = 15.0) -> list[str]:
        """Stop every process after its op in flight; returns the threads that did not end in time
        (an op stuck past every timeout: reported, and left behind as a daemon thread)."""
        self._stop.set()
        deadline = time.monotonic() + timeout_s
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        return [t.name for t in self._threads if t.is_alive()]

    def request_stop(self) -> None:
        self._stop.set()

    def _record(self, op: Op) -> None:
        if op.outcome is Outcome.OK:
            self.first_ok.set()
        try:
            self._sink(op)
        except Exception:  # a broken history must not kill the traffic; say so once
            if not self._sink_failed:
                self._sink_failed = True
                log.exception("%s: recording an op failed", self.signal)

    def _run(self, index: int, grid: Grid) -> None:
        stats = self.stats[index]
        client: Client | None = None
        slot = grid.first
        try:
            while not self._stop.is_set():
                wait = slot - self._clock()
                if wait > 0 and self._stop.wait(wait):
                    break
                if client is None:
                    client = self._open(index)
                kind = client.kind if client is not None else "open"
                start = self._clock()
                seq = self._seq()
                result = self._invoke(client, seq, stats) if client is not None else \
                    Result.fail(seq, "open: the client could not be created (see the runner's log)")
                end = self._clock()
                stats.ops += 1
                self._record(Op(self.signal, index, kind, result.value, start, end, result.outcome, result.error))
                slot, skipped = grid.next_after(slot, end)
                stats.skipped_slots += skipped
        finally:
            if client is not None:
                _quietly(client.close)

    def _open(self, index: int) -> Client | None:
        try:
            client = self._make_client(index)
            client.open()
            return client
        except Exception:
            if index not in self._open_failed:  # once per process: it is retried every slot
                self._open_failed.add(index)
                log.exception("%s[%d]: opening the client failed", self.signal, index)
            return None

    @staticmethod
    def _invoke(client: Client, seq: int, stats: ProcessStats) -> Result:
        try:
            return client.invoke(seq)
        except Exception as exc:  # unclassified: we do not know whether it happened
            stats.unexpected += 1
            log.debug("unclassified error in invoke", exc_info=True)
            _quietly(client.close)  # the next op starts from a fresh connection
            return Result.info(seq, "unexpected " + error_text(exc))

    def summary(self) -> dict[str, float | int]:
        return {"ops": sum(s.ops for s in self.stats), "skipped_slots": sum(s.skipped_slots for s in self.stats),
                "unexpected": sum(s.unexpected for s in self.stats)}


def _quietly(fn: Callable[[], None]) -> None:
    try:
        fn()
    except Exception:
        log.debug("ignored error while closing", exc_info=True)


class Stoppable(Protocol):
    """A runner of client threads (SignalRunner, the pipelined publisher)."""

    def request_stop(self) -> None: ...
    def stop(self, timeout_s: float = 15.0) -> list[str]: ...


def stop_all(runners: Sequence[Stoppable], timeout_s: float = 15.0) -> list[str]:
    """Signal every runner first, then join: the stops overlap instead of adding up."""
    for r in runners:
        r.request_stop()
    stuck: list[str] = []
    for r in runners:
        stuck += r.stop(timeout_s)
    return stuck
