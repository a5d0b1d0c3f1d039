"""Acknowledged writes lost: ok in the history, absent from the final read.

`info` writes (outcome unknown) may or may not be present; they are counted apart, never as lost.
A value in the final read that no op ever attempted is reported as unexpected (a harness or
database bug); a `fail` write that is present anyway is reported too (the client was told no).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from drills.checkers.verdict import Verdict, judge, not_measured
from drills.history import Op


def check_lost_writes(ops: Sequence[Op], signal: str, final_read: Collection[object] | None, *,
                      max_lost: int = 0, why: str = "") -> Verdict:
    expectation = f"acknowledged writes lost <= {max_lost}"
    writes = [o for o in ops if o.signal == signal and o.kind == "write"]
    if final_read is None:
        return not_measured("lost-writes", signal, expectation, "no final read", max_lost=max_lost)
    if not writes:
        return not_measured("lost-writes", signal, expectation, "no writes recorded", max_lost=max_lost)
    present = set(final_read)
    acked = {o.value for o in writes if o.ok}
    unknown = {o.value for o in writes if o.outcome.value == "info"}
    failed = {o.value for o in writes if o.outcome.value == "fail"}
    lost = sorted(acked - present)
    attempted = acked | unknown | failed
    unexpected = sorted(present - attempted, key=str)
    measured = {
        "acknowledged": len(acked), "lost": len(lost), "indeterminate": len(unknown),
        "indeterminate_present": len(unknown & present), "failed_but_present": len(failed & present - acked),
        "unexpected": len(unexpected), "lost_sample": lost[:20],
    }
    observed = (f"{len(lost)} of {len(acked)} acknowledged writes lost; {len(unknown)} indeterminate "
                f"({len(unknown & present)} present)")
    if unexpected:
        observed += f"; {len(unexpected)} values never written appeared"
    ok = len(lost) <= max_lost and not unexpected
    return Verdict("lost-writes", signal, expectation, observed, judge(ok), measured, {"max_lost": max_lost}, why)
