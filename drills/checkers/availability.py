"""Availability of one signal: outage windows, error rate, and the recovery time (RTO).

Definitions (ops sorted by start time):
- an outage window is a maximal run of consecutive non-ok ops; it spans from the first failed
  op's start to the end of the next ok op (the moment the user saw service again), or to the last
  op's end when no ok op follows (then the signal never recovered);
- RTO is the time from the fault's injection to the end of the first ok op that begins a sustained
  success: every op that starts within `sustain_s` after it is ok. With ops every 20 ms the
  resolution is the op spacing. A signal that never failed after the fault has RTO 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from drills.checkers.verdict import Status, Verdict, judge, not_measured
from drills.history import Op


@dataclass(frozen=True)
class Window:
    start: float
    end: float
    failed_ops: int
    recovered: bool

    @property
    def duration(self) -> float:
        return self.end - self.start


def outage_windows(ops: Sequence[Op]) -> list[Window]:
    ordered = sorted(ops, key=lambda o: o.start)
    windows: list[Window] = []
    first_bad: Op | None = None
    failed = 0
    for op in ordered:
        if not op.ok:
            if first_bad is None:
                first_bad = op
            failed += 1
        elif first_bad is not None:
            windows.append(Window(first_bad.start, max(op.end, first_bad.start), failed, True))
            first_bad, failed = None, 0
    if first_bad is not None:
        end = max(o.end for o in ordered)
        windows.append(Window(first_bad.start, max(end, first_bad.start), failed, False))
    return windows


def rto(ops: Sequence[Op], fault_at: float, sustain_s: float = 1.0) -> float | None:
    """Seconds from `fault_at` to sustained success; None when success never sustained."""
    after = sorted((o for o in ops if o.start >= fault_at), key=lambda o: o.start)
    if not after:
        return None
    if all(o.ok for o in after):
        return 0.0
    for i, op in enumerate(after):
        if not op.ok:
            continue
        horizon = op.start + sustain_s
        rest = [o for o in after[i:] if o.start <= horizon]
        reaches = after[-1].start >= horizon  # the history must cover the whole sustain window
        if reaches and all(o.ok for o in rest):
            # No failure after the fault before this op means the fault never disrupted the signal.
            if all(o.ok for o in after[:i]):
                return 0.0
            return max(0.0, op.end - fault_at)
    return None


def check_availability(ops: Sequence[Op], signal: str, *, fault_at: float | None,
                       fault_end: float | None = None, max_outage_s: float | None = None,
                       max_error_rate: float | None = None, max_rto_s: float | None = None,
                       sustain_s: float = 1.0, why: str = "") -> Verdict:
    mine = [o for o in ops if o.signal == signal]
    bound = {k: v for k, v in (("max_outage_s", max_outage_s), ("max_error_rate", max_error_rate),
                               ("max_rto_s", max_rto_s)) if v is not None}
    expectation = "; ".join(f"{k} <= {v}" for k, v in bound.items()) or "measured only"
    if not mine:
        return not_measured("availability", signal, expectation, "no operations recorded", **bound)
    windows = outage_windows(mine)
    longest = max((w.duration for w in windows), default=0.0)
    errors = sum(1 for o in mine if not o.ok)
    rate = errors / len(mine)
    measured: dict[str, float | int | None] = {
        "ops": len(mine), "errors": errors, "error_rate": round(rate, 4),
        "outages": len(windows), "longest_outage_s": round(longest, 3),
    }
    if fault_at is not None and fault_end is not None:
        during = [o for o in mine if fault_at <= o.start <= fault_end]
        measured["error_rate_during_fault"] = round(sum(1 for o in during if not o.ok) / len(during), 4) if during \
            else None
    recovery = rto(mine, fault_at, sustain_s) if fault_at is not None else None
    measured["rto_s"] = None if recovery is None else round(recovery, 3)
    unrecovered = any(not w.recovered for w in windows)
    ok = True
    if max_outage_s is not None:
        ok &= longest <= max_outage_s and not unrecovered
    if max_error_rate is not None:
        ok &= rate <= max_error_rate
    if max_rto_s is not None:
        if fault_at is None:
            return not_measured("availability", signal, expectation, "no fault was injected", **bound)
        ok &= recovery is not None and recovery <= max_rto_s
    observed = (f"{errors}/{len(mine)} ops failed ({rate:.1%}); {len(windows)} outage(s), longest "
                f"{longest:.2f} s" + ("" if recovery is None else f"; RTO {recovery:.2f} s")
                + ("; never recovered" if unrecovered else ""))
    return Verdict("availability", signal, expectation, observed, judge(ok), measured, bound, why)


def status_word(v: Verdict) -> str:
    return {Status.PASS: "PASS", Status.FAIL: "FAIL", Status.NOT_MEASURED: "NOT MEASURED"}[v.status]
