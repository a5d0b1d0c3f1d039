"""Web sessions lost with a dashboard instance (the policy: "no degradation beyond lost in-memory
sessions").

Each process of the session signal is one user: it logs in once and keeps checking that the
dashboards still know its session (`drills.workload.http.SessionProbe`). A user *had* a session
when one of its ops succeeded before the fault; it *lost* it when, after the fault, an op failed
with "session lost" (the balancer sent it to an instance that does not know it); it *recovered*
when an op succeeded after its last loss (it logged in again). Users on the surviving instance
must keep theirs, so the share of users who lost their session is bounded by the share the lost
instance held; and every user who lost one must be able to log in again.
"""

from __future__ import annotations

from collections.abc import Sequence

from drills.checkers.verdict import Verdict, judge, not_measured
from drills.history import Op, Outcome

SESSION_LOST = "session lost"  # drills.workload.http.SESSION_LOST, the error of such an op


def check_sessions(ops: Sequence[Op], signal: str, *, fault_at: float | None, max_lost_share: float,
                   why: str = "") -> Verdict:
    expectation = f"users who lost their session <= {max_lost_share:.0%}; every one of them logs in again"
    bound = {"max_lost_share_rate": max_lost_share}
    if fault_at is None:
        return not_measured("sessions", signal, expectation, "no fault was injected", bound=bound, why=why)
    mine = [o for o in ops if o.signal == signal]
    users = sorted({o.process for o in mine if o.outcome is Outcome.OK and o.end <= fault_at})
    if not users:
        return not_measured("sessions", signal, expectation, "no user had a session before the fault",
                            bound=bound, why=why)
    lost_at: dict[int, float] = {}
    for o in mine:
        if o.process in users and o.start >= fault_at and o.outcome is Outcome.FAIL and o.error == SESSION_LOST:
            lost_at[o.process] = max(lost_at.get(o.process, o.end), o.end)
    stranded = sorted(p for p, t in lost_at.items()
                      if not any(o.process == p and o.outcome is Outcome.OK and o.start >= t for o in mine))
    share = len(lost_at) / len(users)
    measured = {"users": len(users), "lost": len(lost_at), "lost_share_rate": round(share, 4),
                "not_logged_in_again": len(stranded)}
    observed = f"{len(lost_at)} of {len(users)} users lost their session ({share:.0%})"
    observed += f"; {len(stranded)} could not log in again" if stranded else "; all logged in again"
    return Verdict("sessions", signal, expectation, observed, judge(share <= max_lost_share and not stranded),
                   measured, bound, why)
