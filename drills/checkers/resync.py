"""Replicas back in sync after heal: the recovery wait's measured time against a bound."""

from __future__ import annotations

from drills.checkers.verdict import Verdict, judge, not_measured


def check_resync(component: str, recovered_after_s: float | None, *, timed_out: bool, max_resync_s: float,
                 last_seen: str = "", why: str = "") -> Verdict:
    """`recovered_after_s`: from the heal to every member back and in sync (lag 0, count restored)."""
    expectation = f"back in sync (all members, replication lag 0) within {max_resync_s} s of the heal"
    bound = {"max_resync_s": max_resync_s}
    if timed_out:
        return Verdict("resync", component, expectation, f"not in sync when the wait gave up: {last_seen}",
                       judge(False), {"resync_s": None}, bound, why)
    if recovered_after_s is None:
        return not_measured("resync", component, expectation, "no recovery wait ran", **bound)
    return Verdict("resync", component, expectation, f"in sync {recovered_after_s:.1f} s after the heal",
                   judge(recovered_after_s <= max_resync_s), {"resync_s": round(recovered_after_s, 2)}, bound, why)
