"""Whether a signal's clients kept their configured rate: the pacing of the workload itself.

A drill measures the stack through its clients. When the machine is overloaded (two stacks drilled
at once, CI on 2 cores) the clients fall behind, and an outage measured by a late client is the
client's as much as the stack's. This measure looks at the steady phase (before any fault: the stack
is healthy, so a shortfall there is the client's) and asks, per signal and from the history alone:

- **achieved rate**: ops started in the window / its length, against the configured `rate`;
- **slots the stack took**: time a process was blocked by its own op beyond the op's period
  (`clients / rate`), in slots. An op that blocks on a dead or slow server makes the pacer skip the
  slots it overran (`drills.workload.base.Grid.next_after`): those are the stack's, never the
  client's, so they are taken out of what the client owed;
- **lag skips**: slots owed (the window's, less the stack's) that no op started: skipped although
  nothing blocked the process, ops fast yet starts late. Scheduling lag, the signature of a
  starved client.

Held when the client started at least `HELD_FRACTION` of the slots the stack left it (its lag
skips are then at most the rest). NOT MEASURED, with why, when the window is unknown or too short to
tell, or when the stack itself took most of the window's slots (slow ops then hide the client's
pace). Pure: a history, the phases' times and the configured rates in, `Pacing` out.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from drills.core.events import Phase, PhaseBegan, first_began
from drills.core.history import Event, Op
from drills.workload.signal import SignalSpec

# The client must start 90 % of the slots it owed. Not 100 %: the window's edges cost up to one slot
# per process (a slot just before the window's end not yet started), and a short GC pause or a
# scheduler hiccup a few times a minute is not an overloaded machine. Below 90 % the resolution the
# signal promises (an outage known to one op spacing) is visibly lost.
HELD_FRACTION = 0.9
# Each process must owe at least this many slots in the window: the edges' error (one slot per
# process) is then at most 5 %, half the margin HELD_FRACTION leaves.
MIN_SLOTS_PER_PROCESS = 20
# When the stack took more than half the window's slots (slow ops in the steady phase), what is
# left is too little to judge the client by, and an op slowed by a starved client looks the same.
MAX_STACK_SHARE = 0.5
# Float tolerance when counting whole periods (as `Grid.at_or_before`'s).
_EPS = 1e-9

PacingStatus = Literal["held", "not-held", "not-measured"]


@dataclass(frozen=True)
class Pacing:
    """One signal's pacing over a window (seconds on the drill's clock)."""

    signal: str
    rate: float  # configured ops/s for the whole signal
    clients: int
    status: PacingStatus
    since: float | None
    until: float | None
    started: int = 0  # ops started in the window
    owed: float = 0.0  # slots the stack left the client: window x rate - stack_slots
    stack_slots: float = 0.0  # slots overrun by ops blocking on the system (not the client's)
    lag_skips: int = 0  # slots skipped while nothing blocked the process (the client's)
    why: str = ""

    @property
    def window_s(self) -> float | None:
        return None if self.since is None or self.until is None else self.until - self.since

    @property
    def achieved_rate(self) -> float | None:
        """Ops started per second of the window, slow ops or not."""
        window = self.window_s
        return self.started / window if window else None

    @property
    def held(self) -> bool | None:
        """True or False; None when not measured."""
        return None if self.status == "not-measured" else self.status == "held"

    def account(self) -> str:
        """What was seen, and what it means, without the signal's name."""
        if self.status == "not-measured":
            return self.why
        achieved = self.achieved_rate or 0.0
        text = (f"started {achieved:.1f} ops/s of {self.rate:g} in steady ({self.started} of {self.owed:.0f} slots "
                f"owed, {self.lag_skips} skipped by the client's lag)")
        if self.status == "held":
            return text
        return f"{text}: the clients fell behind, outages measured by them are upper bounds"

    def line(self) -> str:
        """One line for the console."""
        said = {"held": "held", "not-held": "NOT held", "not-measured": "NOT MEASURED"}[self.status]
        return f"pacing {said}: {self.signal} {self.account()}"

    def to_json(self) -> dict[str, Any]:
        achieved = self.achieved_rate
        return {"signal": self.signal, "rate": self.rate, "clients": self.clients, "status": self.status,
                "since_s": _round(self.since), "until_s": _round(self.until), "started": self.started,
                "achieved_rate": None if achieved is None else round(achieved, 3),
                "owed_slots": round(self.owed, 1), "stack_slots": round(self.stack_slots, 1),
                "lag_skips": self.lag_skips, "why": self.why, "line": self.line()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Pacing:
        return cls(str(data["signal"]), float(data["rate"]), int(data["clients"]), data["status"],
                   data.get("since_s"), data.get("until_s"), int(data.get("started", 0)),
                   float(data.get("owed_slots", 0.0)), float(data.get("stack_slots", 0.0)),
                   int(data.get("lag_skips", 0)), str(data.get("why", "")))


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def pacing_of(ops: Sequence[Op], signal: str, *, rate: float, clients: int, since: float | None,
              until: float | None) -> Pacing:
    """The pacing of `signal` between `since` and `until` (see the module docstring)."""
    base = Pacing(signal, rate, clients, "not-measured", since, until)
    if since is None or until is None or until <= since:
        return _unmeasured(base, "the steady phase's times are not in the history")
    period = clients / rate
    per_process = (until - since) / period
    if per_process < MIN_SLOTS_PER_PROCESS:
        return _unmeasured(base, f"the steady phase ({until - since:.1f} s) holds {per_process:.0f} slot(s) per "
                                 f"client, fewer than {MIN_SLOTS_PER_PROCESS}: too short to tell")
    mine = [o for o in ops if o.signal == signal]
    if not mine:
        return _unmeasured(base, "no op of it in the history (a signal recorded under other names)")
    by_process: dict[int, list[Op]] = defaultdict(list)
    for op in mine:
        by_process[op.process].append(op)
    started = 0
    stack_time = 0.0
    for process_ops in by_process.values():
        ordered = sorted(process_ops, key=lambda o: (o.start, o.end))
        started += sum(1 for o in ordered if since <= o.start < until)
        stack_time += _blocked(ordered, period, since, until)
    stack_slots = stack_time / period
    expected = (until - since) * rate
    owed = expected - stack_slots
    # Every slot owed and not started was skipped with nothing of the stack's holding the process:
    # the client's lag. Counted from the grid's arithmetic, not op by op, because a late start hides
    # the lag before it (the next slot is reckoned from a start that was itself late).
    lag_skips = max(0, math.floor(owed - started + _EPS))
    counted = Pacing(signal, rate, clients, "not-measured", since, until, started, max(0.0, owed), stack_slots,
                     lag_skips)
    if stack_slots > MAX_STACK_SHARE * expected:
        return _unmeasured(counted, f"ops blocked on the system for {stack_slots:.0f} of {expected:.0f} slots: the "
                                    f"stack, not the client, set the pace")
    if started >= HELD_FRACTION * owed:
        return _with(counted, "held", "")
    return _with(counted, "not-held", f"started {started} of {owed:.0f} slots owed (held at "
                                      f">= {HELD_FRACTION:.0%}), {lag_skips} skipped by the client's lag")


def _blocked(ordered: Sequence[Op], period: float, since: float, until: float) -> float:
    """Seconds within [since, until) the process was held by its own ops beyond their period. An op
    the next one overlapped held nothing (a pipelined process has many in flight)."""
    total = 0.0
    for i, op in enumerate(ordered):
        nxt = ordered[i + 1] if i + 1 < len(ordered) else None
        if nxt is not None and nxt.start < op.end:
            continue
        total += max(0.0, min(op.end, until) - max(op.start + period, since))
    return total


def _unmeasured(p: Pacing, why: str) -> Pacing:
    return _with(p, "not-measured", why)


def _with(p: Pacing, status: PacingStatus, why: str) -> Pacing:
    return dataclasses.replace(p, status=status, why=why)


def steady_window(events: Sequence[Event]) -> tuple[float | None, float | None]:
    """The steady phase: from its beginning to the next phase's (the first injection, or whatever
    followed a drill that injected nothing). None where the history does not say."""
    since = first_began(events, Phase.STEADY)
    if since is None:
        return None, None
    later = [p.at for p in (PhaseBegan.of(e) for e in events) if p is not None and p.at > since]
    return since, min(later, default=None)


def pacing_all(ops: Sequence[Op], events: Sequence[Event], workload: Mapping[str, SignalSpec]) -> list[Pacing]:
    """Every signal of the workload (`signal -> SignalSpec`), in its order, over the steady phase."""
    since, until = steady_window(events)
    return [pacing_of(ops, signal, rate=spec.rate, clients=spec.clients, since=since, until=until)
            for signal, spec in workload.items()]
