"""Steady state (chaostoolkit's hypothesis): each signal's success rate in a quiet window.

Run once on the window before the first fault and once on the window after recovery (from the
`after` phase, or from the signal's first op served after it when it was not served yet): the drill
proves the system was healthy before it was hurt and is healthy again after. The window is
half-open, [from, to): an op counts by its start. Fewer than `min_ops` ops in the window is NOT
MEASURED: a rate of 1 out of 1 shows nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from pydantic import Field

from drills.checkers.protocol import Checker, Evidence, ExpectationModel, FileView
from drills.checkers.verdict import Verdict, judge, not_measured
from drills.core.history import Op
from drills.core.yaml_locate import Loc
from drills.spec.types import Float, Int, Why, number_or
from drills.workload.registry import SIGNALS, Signal


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


def served_again(ops: Sequence[Op], signal: str, ready_at: float) -> float:
    """Where the window after recovery opens: at the stack's readiness (`ready_at`) when the first
    op from then on was served, else at the first op served after it (the signal still failing). A
    chain that resumes a moment after its components report ready (an end-to-end probe) is still
    recovering, which availability judges (outage, RTO); the steady state is judged from its return
    on. A signal never served again leaves the window empty: NOT MEASURED here, a failure there."""
    later = sorted((o for o in ops if o.signal == signal and o.start >= ready_at), key=lambda o: o.start)
    if later and later[0].ok:
        return ready_at  # served at readiness: the window is the after phase, as it always was
    return next((o.start for o in later if o.ok), float("inf"))


# ---- the expectation and the checker -------------------------------------------------------------


class SteadyState(ExpectationModel):
    """Success rate of each signal before the fault and after recovery (drills.checkers.steady_state)."""

    checker: Literal["steady-state"]
    min_success_rate: Float = Field(0.99, ge=0, le=1)
    min_ops: Int = Field(5, ge=1, description="Fewer ops in a window than this: not measured.")
    signals: tuple[Signal, ...] = Field((), description="Default: every signal of the workload.")
    why: Why


def _check(exp: SteadyState, ev: Evidence) -> list[Verdict]:
    s, verdicts = ev.scenario, []
    for signal in exp.signals or tuple(s.workload):
        before = (ev.steady_from, ev.fault_at if ev.fault_at is not None else ev.steady_from + s.steady)
        verdicts.append(check_steady_state(ev.ops, signal, window=before, label="before the fault",
                                           min_success_rate=exp.min_success_rate, min_ops=exp.min_ops, why=exp.why))
        ready_at = ev.after_from if ev.after_from is not None else float("inf")
        after = (served_again(ev.ops, signal, ready_at), ev.end if ev.end is not None else float("inf"))
        if after[0] == float("inf") and ready_at != float("inf"):
            verdicts.append(not_measured(
                "steady-state", f"{signal} (after recovery)",
                f"after recovery: success rate >= {exp.min_success_rate:.1%} (at least {exp.min_ops} ops)",
                f"not served once after the stack was ready (t={ready_at:.1f} s)", why=exp.why,
                bound={"min_success_rate": exp.min_success_rate, "min_ops": exp.min_ops}, measured={"ops": 0}))
            continue
        verdicts.append(check_steady_state(ev.ops, signal, window=after, label="after recovery",
                                           min_success_rate=exp.min_success_rate, min_ops=exp.min_ops, why=exp.why))
    return verdicts


def _problems(exp: Mapping[str, Any], view: FileView) -> Iterable[tuple[Loc, str]]:
    workload = view.workload
    if workload is None:
        return
    chosen = exp.get("signals")
    chosen = chosen if isinstance(chosen, list) else []
    for k, sig in enumerate(chosen):
        if sig in SIGNALS and sig not in workload:
            yield ("signals", k), f"{sig!r} is not in the workload"
    min_ops = number_or(exp.get("min_ops"), 5)
    if min_ops is None or view.steady is None or view.after is None:
        return
    shortest = min(view.steady, view.after)
    for sig, spec in workload.items():
        rate = number_or(spec.get("rate") if isinstance(spec, dict) else None, 50.0)
        if (sig in chosen or not chosen) and rate is not None and rate * shortest < min_ops:
            yield ("min_ops",), (f"{sig} at {rate:g} ops/s gives ~{rate * shortest:.0f} ops in the {shortest:g} s "
                                 f"steady window, fewer than min_ops {min_ops:g}: lengthen `steady`/`after`")


CHECKER = Checker(SteadyState, _check, problems=_problems,
                  subject=lambda exp, scenario: ", ".join(exp.get("signals") or []) or "all signals")
