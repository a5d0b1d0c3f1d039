"""Steady state before the fault and after recovery: each signal's success rate in a window."""

from __future__ import annotations

from collections.abc import Sequence

from drills.checkers.verdict import Verdict, judge, not_measured
from drills.history import Op


def check_steady_state(ops: Sequence[Op], signal: str, *, window: tuple[float, float], label: str,
                       min_success_rate: float = 0.99, why: str = "") -> Verdict:
    expectation = f"{label}: success rate >= {min_success_rate:.0%}"
    inside = [o for o in ops if o.signal == signal and window[0] <= o.start <= window[1]]
    if not inside:
        return not_measured("steady-state", f"{signal} ({label})", expectation, "no operations in the window",
                            min_success_rate=min_success_rate)
    rate = sum(1 for o in inside if o.ok) / len(inside)
    return Verdict("steady-state", f"{signal} ({label})", expectation,
                   f"{rate:.1%} of {len(inside)} ops succeeded", judge(rate >= min_success_rate),
                   {"success_rate": round(rate, 4), "ops": len(inside)}, {"min_success_rate": min_success_rate}, why)
