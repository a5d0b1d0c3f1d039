"""Steady state (chaostoolkit's hypothesis): each signal's success rate in a quiet window.

Run once on the window before the first fault and once on the window after recovery: the drill
proves the system was healthy before it was hurt and is healthy again after. The window is
half-open, [from, to): an op counts by its start. Fewer than `min_ops` ops in the window is NOT
MEASURED: a rate of 1 out of 1 shows nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from drills.checkers.verdict import Verdict, judge, not_measured
from drills.history import Op


def check_steady_state(ops: Sequence[Op], signal: str, *, window: tuple[float, float], label: str,
                       min_success_rate: float = 0.99, min_ops: int = 5, why: str = "") -> Verdict:
    lo, hi = window
    subject = f"{signal} ({label})"
    expectation = f"{label}: success rate >= {min_success_rate:.1%} (at least {min_ops} ops)"
    bound = {"min_success_rate": min_success_rate, "min_ops": min_ops}
    inside = [o for o in ops if o.signal == signal and lo <= o.start < hi]
    span = f"t={lo:.1f}-{hi:.1f} s"
    if len(inside) < min_ops:
        return not_measured("steady-state", subject, expectation,
                            f"{len(inside)} ops in the window {span}, fewer than {min_ops}", why=why,
                            bound=bound, measured={"ops": len(inside)})
    succeeded = sum(1 for o in inside if o.ok)
    rate = succeeded / len(inside)
    return Verdict("steady-state", subject, expectation, f"{rate:.1%} of {len(inside)} ops succeeded ({span})",
                   judge(rate >= min_success_rate),
                   {"success_rate": round(rate, 4), "ops": len(inside), "failed": len(inside) - succeeded,
                    "window_s": [round(lo, 3), None if hi == float("inf") else round(hi, 3)]},
                   bound, why)
