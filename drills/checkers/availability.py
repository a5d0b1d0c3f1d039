"""Availability of one signal: outage windows, error rates, and the recovery time (RTO).

Definitions, over the signal's ops sorted by start time (all client processes together):

- An op *fails* when it is not `ok`: `fail` and `info` both mean the user was not served.
- An **outage window** opens at the start of a failed op that follows an ok op (or begins the
  history) and closes at the *end* of the next ok op: the moment a user saw service again. With no
  ok op after it, it closes at the history's last end and is *unrecovered*. Windows that overlap
  (possible only with concurrent processes, where a slow ok op ends after another process fails
  again) are merged, so windows never overlap and each lies within the history's span. The
  measured duration over-estimates the true gap by at most one op's latency plus one op spacing.
- The **error rate** is failed ops / ops; *during the fault* counts the ops that started between
  the injection and the heal.
- **RTO** is the time from the fault's injection to the first *sustained* success after the
  disruption began: find the first failed op that started between the injection and the heal
  (`fault_end`; any time after the injection when no heal is known), then the
  first ok op after it that opens a run of consecutive ok ops at least `sustain_ops` long whose
  first and last starts are at least `sustain_s` apart; RTO is that op's end minus the injection.
  A signal with no failed op while the fault is applied has RTO 0 (if its ops after the
  injection themselves form a sustained run). RTO is never negative and never shorter than the outage
  that followed the fault; its resolution is the op spacing (20 ms at 50 ops/s).
- Later outages (a blip when the old leader rejoins) do not move the RTO; `max_outage_s` bounds
  every window, so they are judged there.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, NamedTuple

from pydantic import Field

from drills.checkers.protocol import Checker, Evidence, ExpectationModel, FileView, Metric, Watch, signal_not_driven
from drills.checkers.verdict import Verdict, judge_all, not_measured
from drills.core.events import Phase
from drills.core.history import Op
from drills.core.yaml_locate import Loc
from drills.spec.types import Duration, Float, Int, Why
from drills.workload.registry import Signal


@dataclass(frozen=True, slots=True)
class OutageWindow:
    start: float
    end: float
    failed_ops: int
    recovered: bool

    @property
    def duration(self) -> float:
        return self.end - self.start


def _ordered(ops: Sequence[Op]) -> list[Op]:
    return sorted(ops, key=lambda o: (o.start, o.end))


def outage_windows(ops: Sequence[Op]) -> list[OutageWindow]:
    """The signal's outage windows, disjoint and in time order (see the module docstring)."""
    ordered = _ordered(ops)
    raw: list[OutageWindow] = []
    opened: float | None = None
    failed = 0
    for op in ordered:
        if not op.ok:
            if opened is None:
                opened = op.start
            failed += 1
        elif opened is not None:
            raw.append(OutageWindow(opened, max(op.end, opened), failed, True))
            opened, failed = None, 0
    if opened is not None:
        last = max(max(o.end, o.start) for o in ordered)
        raw.append(OutageWindow(opened, last, failed, False))
    merged: list[OutageWindow] = []
    for w in raw:
        if merged and w.start < merged[-1].end:
            m = merged[-1]
            merged[-1] = OutageWindow(m.start, max(m.end, w.end), m.failed_ops + w.failed_ops,
                                      m.recovered and w.recovered)
        else:
            merged.append(w)
    return merged


HowRecovered = Literal["recovered", "undisturbed", "no-ops", "never", "too-short"]


class RecoveryTime(NamedTuple):
    """How long a signal took to recover after a fault (its RTO), or why that is not known."""

    rto_s: float | None
    why: HowRecovered
    # RTO is at least this much even when unknown: a sustained success can only begin with an op
    # that starts this late (or later). With `too-short`, a bound below it is broken whatever the
    # drill would have seen next.
    at_least_s: float = 0.0


def _run_end(ops: Sequence[Op], i: int) -> int:
    """Index of the last op of the run of consecutive ok ops that starts at `i`."""
    j = i
    while j + 1 < len(ops) and ops[j + 1].ok:
        j += 1
    return j


def recovery(ops: Sequence[Op], fault_at: float, *, fault_end: float | None = None, sustain_s: float = 1.0,
             sustain_ops: int = 1) -> RecoveryTime:
    """RTO (or None), why, and a lower bound. Why: `recovered`; `undisturbed` (RTO 0); `no-ops`
    (nothing started after the injection); `never` (the history ends failing); `too-short` (it
    ends in an ok run too short to call sustained: the drill stopped watching too soon to tell).
    Sustained = at least `sustain_ops` ok ops in a row whose starts span at least `sustain_s`
    (`sustain_s: 0` makes it a pure count, `sustain_ops: 1` a pure duration).

    The disruption must begin while the fault is applied (by `fault_end`, when given): a blip
    after the heal does not turn an undisturbed signal into a slow recovery."""
    after = _ordered([o for o in ops if o.start >= fault_at])
    if not after:
        return RecoveryTime(None, "no-ops")
    n = len(after)

    def sustained(i: int, j: int) -> bool:
        return j - i + 1 >= sustain_ops and after[j].start - after[i].start >= sustain_s

    horizon = float("inf") if fault_end is None else fault_end
    first_bad = next((i for i, o in enumerate(after) if not o.ok and o.start <= horizon), None)
    if first_bad is None:
        if not after[0].ok:
            first_bad = 0
        else:
            j = _run_end(after, 0)
            if sustained(0, j):
                return RecoveryTime(0.0, "undisturbed")
            if j == n - 1:
                return RecoveryTime(None, "too-short", 0.0)
            first_bad = j + 1  # cut short by a failure after the heal: recovery is measured from there
    i = first_bad
    while i < n:
        if not after[i].ok:
            i += 1
            continue
        j = _run_end(after, i)
        if sustained(i, j):
            rto_s = max(0.0, after[i].end - fault_at)
            return RecoveryTime(rto_s, "recovered", rto_s)
        if j == n - 1:
            return RecoveryTime(None, "too-short", max(0.0, after[i].start - fault_at))
        i = j + 1
    return RecoveryTime(None, "never", max(0.0, after[-1].start - fault_at))


def rto(ops: Sequence[Op], fault_at: float, sustain_s: float = 1.0, sustain_ops: int = 1,
        fault_end: float | None = None) -> float | None:
    """Seconds from `fault_at` to sustained success; None when it cannot be shown."""
    return recovery(ops, fault_at, fault_end=fault_end, sustain_s=sustain_s, sustain_ops=sustain_ops).rto_s


def _rate(ops: Sequence[Op]) -> float | None:
    return sum(1 for o in ops if not o.ok) / len(ops) if ops else None


def check_availability(ops: Sequence[Op], signal: str, *, fault_at: float | None,
                       fault_end: float | None = None, max_outage_s: float | None = None,
                       max_error_rate: float | None = None, max_fault_error_rate: float | None = None,
                       max_rto_s: float | None = None, sustain_s: float = 1.0, sustain_ops: int = 1,
                       since: float | None = None, until: float | None = None, why: str = "") -> Verdict:
    """Judge one signal. `since`/`until` bound the ops considered (e.g. from the steady phase on,
    leaving out the warm-up's connection attempts); `fault_at`/`fault_end` are the first injection
    and the last heal."""
    mine = [o for o in ops if o.signal == signal and (since is None or o.start >= since)
            and (until is None or o.start <= until)]
    bound = {k: v for k, v in (("max_outage_s", max_outage_s), ("max_error_rate", max_error_rate),
                               ("max_fault_error_rate", max_fault_error_rate), ("max_rto_s", max_rto_s))
             if v is not None}
    expectation = "; ".join(f"{k} <= {v:g}" for k, v in bound.items()) or "no bound given"
    if max_rto_s is not None:
        expectation += f" (recovered = ok for {sustain_s:g} s and >= {sustain_ops} ops in a row)"
    if not mine:
        return not_measured("availability", signal, expectation, "no operations recorded", bound=bound, why=why)

    seen = _Seen.of(mine, fault_at, fault_end, sustain_s=sustain_s, sustain_ops=sustain_ops)
    checks = _checks(seen, max_outage_s=max_outage_s, max_error_rate=max_error_rate,
                     max_fault_error_rate=max_fault_error_rate, max_rto_s=max_rto_s)
    observed = _observed(seen, fault_at=fault_at, max_rto_s=max_rto_s, max_outage_s=max_outage_s)
    return Verdict("availability", signal, expectation, observed, judge_all(checks), seen.measured(), bound, why)


@dataclass(frozen=True)
class _Seen:
    """What one signal's ops showed: what `check_availability` judges and reports."""

    ops: int
    errors: int
    windows: list[OutageWindow]
    fault_rate: float | None  # None: no fault injected, or no op started while it was applied
    rec: RecoveryTime
    op_spacing_s: float | None  # the median gap between starts; None with a single op

    @classmethod
    def of(cls, mine: Sequence[Op], fault_at: float | None, fault_end: float | None, *, sustain_s: float,
           sustain_ops: int) -> _Seen:
        starts = sorted(o.start for o in mine)
        gaps = [b - a for a, b in itertools.pairwise(starts)]
        fault_rate = None
        if fault_at is not None:
            during = [o for o in mine if fault_at <= o.start <= (fault_end if fault_end is not None else float("inf"))]
            fault_rate = _rate(during)
        rec = (recovery(mine, fault_at, fault_end=fault_end, sustain_s=sustain_s, sustain_ops=sustain_ops)
               if fault_at is not None else RecoveryTime(None, "no-ops"))
        return cls(len(mine), sum(1 for o in mine if not o.ok), outage_windows(mine), fault_rate, rec,
                   statistics.median(gaps) if gaps else None)

    @property
    def rate(self) -> float:
        return self.errors / self.ops

    @property
    def longest(self) -> OutageWindow | None:
        return max(self.windows, key=lambda w: w.duration, default=None)

    @property
    def longest_s(self) -> float:
        longest = self.longest
        return longest.duration if longest is not None else 0.0

    @property
    def unrecovered(self) -> bool:
        """An outage was still going when the history ended."""
        return any(not w.recovered for w in self.windows)

    def measured(self) -> dict[str, float | int | bool | None]:
        longest, rto_s = self.longest, self.rec.rto_s
        return {
            "ops": self.ops, "errors": self.errors, "error_rate": round(self.rate, 4),
            "error_rate_during_fault": None if self.fault_rate is None else round(self.fault_rate, 4),
            "outages": len(self.windows), "longest_outage_s": round(self.longest_s, 3),
            "longest_outage_at_s": None if longest is None else round(longest.start, 3),
            "unrecovered": self.unrecovered, "rto_s": None if rto_s is None else round(rto_s, 3),
            "op_spacing_s": None if self.op_spacing_s is None else round(self.op_spacing_s, 4),
        }


def _checks(seen: _Seen, *, max_outage_s: float | None, max_error_rate: float | None,
            max_fault_error_rate: float | None, max_rto_s: float | None) -> list[bool | None]:
    """One check per bound given: held, broken, or None when the history cannot tell."""
    checks: list[bool | None] = []
    if max_outage_s is not None:
        # An outage still going when the history ended is at least as long as measured: too long
        # when that is over the bound, unknown when not (the drill stopped watching too soon).
        checks.append(False if seen.longest_s > max_outage_s else None if seen.unrecovered else True)
    if max_error_rate is not None:
        checks.append(seen.rate <= max_error_rate)
    if max_fault_error_rate is not None:
        checks.append(None if seen.fault_rate is None else seen.fault_rate <= max_fault_error_rate)
    if max_rto_s is not None:
        if seen.rec.rto_s is not None:
            checks.append(seen.rec.rto_s <= max_rto_s)
        else:
            # Unknown, unless even the earliest possible recovery would be too late: a history that
            # ends failing before the bound has passed did not watch long enough to say "never".
            checks.append(False if seen.rec.at_least_s > max_rto_s else None)
    return checks


def _observed(seen: _Seen, *, fault_at: float | None, max_rto_s: float | None, max_outage_s: float | None) -> str:
    """The verdict's account: errors, outages, and the recovery (or why it is not known)."""
    parts = [f"{seen.errors}/{seen.ops} ops failed ({seen.rate:.1%})"]
    if seen.fault_rate is not None:
        parts.append(f"{seen.fault_rate:.1%} during the fault")
    longest = seen.longest
    if longest is not None:
        parts.append(f"{len(seen.windows)} outage(s), longest {seen.longest_s:.2f} s from t={longest.start:.2f} s")
    else:
        parts.append("no outage")
    if fault_at is None:
        parts.append("no fault injected: RTO not measured")
    elif seen.rec.rto_s is not None:
        parts.append(f"RTO {seen.rec.rto_s:.2f} s")
    else:
        parts.append(_no_rto(seen, max_rto_s=max_rto_s, max_outage_s=max_outage_s))
    if seen.unrecovered and seen.rec.why != "never":
        parts.append("still failing when the history ended")
    return "; ".join(parts)


def _no_rto(seen: _Seen, *, max_rto_s: float | None, max_outage_s: float | None) -> str:
    """Why a fault's recovery time is not known, and whether the bounds can still be judged."""
    rec = seen.rec
    bounds = [b for b in (max_rto_s, max_outage_s) if b is not None]
    watched_too_little = bool(bounds) and (max_rto_s is None or rec.at_least_s <= max_rto_s) and (
        max_outage_s is None or seen.longest_s <= max_outage_s)
    return {"no-ops": "no ops after the fault: RTO not measured",
            "never": (f"not recovered when the history ended, {rec.at_least_s:.2f} s after the injection: "
                      f"too soon to judge the bound" if watched_too_little else
                      f"not recovered within the bound (still failing {rec.at_least_s:.2f} s after the "
                      f"injection, when the history ended)" if bounds else
                      f"never recovered (still failing {rec.at_least_s:.2f} s after the injection, when "
                      f"the history ended)"),
            "too-short": f"history ended before success was sustained: RTO not measured "
                         f"(> {rec.at_least_s:.2f} s)"}.get(rec.why, "")


# ---- the expectation and the checker -------------------------------------------------------------


class Availability(ExpectationModel):
    """Outage windows, error rates and RTO of one signal (drills.checkers.availability)."""

    checker: Literal["availability"]
    signal: Signal
    max_outage: Duration | None = Field(None, description="Longest outage window allowed.")
    max_error_rate: Float | None = Field(None, ge=0, le=1, description="Failed ops / ops over the whole drill.")
    max_error_rate_during_fault: Float | None = Field(None, ge=0, le=1,
                                                      description="Failed ops / ops between injection and heal.")
    max_rto: Duration | None = Field(None, description="From the injection to sustained success.")
    sustain: Duration = Field(1.0, description="Success must hold this long to count as recovered.")
    sustain_ops: Int = Field(1, ge=1, description="... and for at least this many ops in a row.")
    why: Why

    # At least one bound is required of a scenario *file* (`_problems`); a model built in code
    # without one yields a NOT MEASURED verdict ("no bound given").
    BOUNDS: ClassVar[tuple[str, ...]] = ("max_outage", "max_error_rate", "max_error_rate_during_fault", "max_rto")


def _check(exp: Availability, ev: Evidence) -> list[Verdict]:
    # From the steady phase on: the warm-up's connection attempts are not part of the drill.
    return [check_availability(
        ev.ops, exp.signal, fault_at=ev.fault_at, fault_end=ev.fault_end, max_outage_s=exp.max_outage,
        max_error_rate=exp.max_error_rate, max_fault_error_rate=exp.max_error_rate_during_fault,
        max_rto_s=exp.max_rto, sustain_s=exp.sustain, sustain_ops=exp.sustain_ops, since=ev.steady_from, why=exp.why)]


def _problems(exp: Mapping[str, Any], view: FileView) -> Iterable[tuple[Loc, str]]:
    if all(exp.get(k) is None for k in Availability.BOUNDS):
        yield (), f"give at least one bound: {', '.join(Availability.BOUNDS)}"
    yield from signal_not_driven(exp, view)


def _watches(exp: Availability) -> list[Watch]:
    """RTO is judged from the injection; an outage bound alone from the heal at the latest (an
    outage that began while the fault held ends by then plus the bound, or is too long)."""
    if exp.max_rto is not None:
        return [Watch(exp.signal, exp.sustain, exp.sustain_ops, Phase.INJECT, exp.max_rto)]
    if exp.max_outage is not None:
        return [Watch(exp.signal, exp.sustain, exp.sustain_ops, Phase.HEAL, exp.max_outage)]
    return []


CHECKER = Checker(
    Availability, _check, subject=lambda exp, scenario: str(exp.get("signal")), problems=_problems, watches=_watches,
    metrics=(Metric("RTO", "s", "rto_s", bound="max_rto_s", target="max_rto", junit="rto_s"),
             Metric("outage", "s", "longest_outage_s", bound="max_outage_s")),
    trouble=("longest_outage_s", "error_rate_during_fault"))
