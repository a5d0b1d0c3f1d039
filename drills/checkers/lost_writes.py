"""Acknowledged writes lost (RPO): `ok` in the history, absent from the final read.

Per value (a value may be attempted more than once, e.g. retried after an unknown outcome):
- *acknowledged*: some write of it ended `ok`; absent from the final read -> **lost**;
- *indeterminate*: no `ok`, some `info`; it may or may not be there, so it is counted apart
  (present / absent), never as lost;
- *refused*: only `fail`s. Present anyway means the client was told "no" but it happened: counted
  (`failed_but_present`) and shown, not judged, since drivers classify some lost connections as
  errors;
- **unexpected**: in the final read but never attempted at all: a harness or database bug (or
  data from elsewhere), and the verdict fails, because then the read cannot be trusted either.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Literal

from pydantic import Field

from drills.checkers.protocol import Checker, Evidence, ExpectationModel, FileView, Metric, signal_not_driven
from drills.checkers.verdict import Verdict, judge, not_measured
from drills.core.history import Op, Outcome
from drills.core.yaml_locate import Loc
from drills.spec.types import Int, Why
from drills.workload.registry import WriteSignal

SAMPLE = 20  # values listed in a verdict, so a report shows which ones


def value_order(v: object) -> tuple[str, str, float]:
    """Sort key for values of mixed types: numbers by value, then everything else by text."""
    if isinstance(v, int | float) and not isinstance(v, bool):
        return ("", "", float(v))
    return (type(v).__name__, str(v), 0.0)


def check_lost_writes(ops: Sequence[Op], signal: str, final_read: Collection[object] | None, *,
                      max_lost: int = 0, why: str = "") -> Verdict:
    expectation = f"acknowledged writes lost <= {max_lost}"
    if final_read is None:
        return not_measured("lost-writes", signal, expectation, "no final read (the data could not be read back)",
                            bound={"max_lost": max_lost}, why=why)
    writes = [o for o in ops if o.signal == signal and o.kind == "write"]
    if not writes:
        return not_measured("lost-writes", signal, expectation, "no writes recorded", bound={"max_lost": max_lost},
                            why=why)
    present = set(final_read)
    acked = {o.value for o in writes if o.outcome is Outcome.OK}
    unknown = {o.value for o in writes if o.outcome is Outcome.INFO} - acked
    refused = {o.value for o in writes if o.outcome is Outcome.FAIL} - acked - unknown
    lost = sorted(acked - present, key=value_order)
    unexpected = sorted(present - acked - unknown - refused, key=value_order)
    measured = {
        "attempted": len(acked | unknown | refused), "acknowledged": len(acked), "lost": len(lost),
        "indeterminate": len(unknown), "indeterminate_present": len(unknown & present),
        "failed_but_present": len(refused & present), "unexpected": len(unexpected),
        "final_read": len(present), "lost_sample": lost[:SAMPLE], "unexpected_sample": unexpected[:SAMPLE],
    }
    observed = (f"{len(lost)} of {len(acked)} acknowledged writes lost; {len(unknown)} indeterminate "
                f"({len(unknown & present)} present)")
    if lost:
        observed += f"; lost e.g. {', '.join(map(str, lost[:5]))}"
    if refused & present:
        observed += f"; {len(refused & present)} refused writes present anyway"
    if unexpected:
        observed += f"; {len(unexpected)} values never written appeared (e.g. {', '.join(map(str, unexpected[:5]))})"
    ok = len(lost) <= max_lost and not unexpected
    return Verdict("lost-writes", signal, expectation, observed, judge(ok), measured, {"max_lost": max_lost}, why)


# ---- the expectation and the checker -------------------------------------------------------------


class LostWrites(ExpectationModel):
    """Acknowledged writes absent from the final read (drills.checkers.lost_writes)."""

    checker: Literal["lost-writes"]
    signal: WriteSignal
    max_lost: Int = Field(0, ge=0, description="Acknowledged writes that may be lost (the RPO, in writes).")
    why: Why


def _check(exp: LostWrites, ev: Evidence) -> list[Verdict]:
    return [check_lost_writes(ev.ops, exp.signal, ev.facts.final_reads.get(exp.signal), max_lost=exp.max_lost,
                              why=exp.why)]


def _problems(exp: Mapping[str, Any], view: FileView) -> Iterable[tuple[Loc, str]]:
    return signal_not_driven(exp, view)


CHECKER = Checker(
    LostWrites, _check, subject=lambda exp, scenario: str(exp.get("signal")), problems=_problems,
    metrics=(Metric("RPO", "writes", "lost", bound="max_lost", target="max_lost",
                    target_default=lambda exp, scenario, verdict: 0, junit="lost_writes"),),
    # A lost acknowledged write is proven by the history; writes whose outcome is unknown are the
    # ones a failover came closest to taking away.
    invariant="safety", trouble=("lost", "indeterminate"))
