"""Web sessions lost with a dashboard instance (the policy: "no degradation beyond lost in-memory
sessions").

Each process of the session signal is one user: it logs in once and keeps checking that the
dashboards still know its session (`drills.workload.http.SessionProbe`); each op's value names the
instance that holds the session. A user *had* a session when an op succeeded before the fault,
on the instance of its last such op; it *lost* it when, after the fault, an op failed with
"session lost"; it *recovered* when an op succeeded after its last loss (it logged in again).

The policy allows exactly the sessions of the instances the drill took down to be lost: a user
whose session lived on a surviving instance and lost it is a degradation the policy does not
document (e.g. a balancer that forgot its stickiness). And every user who lost a session must be
able to log in again. `max_lost_share` optionally bounds the share of users affected.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Literal

from pydantic import Field

from drills.checkers.protocol import Checker, Evidence, ExpectationModel
from drills.checkers.verdict import Verdict, judge, not_measured
from drills.core.history import Op, Outcome
from drills.spec.types import Float, Why

SESSION_LOST = "session lost"  # drills.workload.http.SESSION_LOST, the error of such an op


def check_sessions(ops: Sequence[Op], signal: str, *, fault_at: float | None, lost_instances: Collection[str],
                   max_lost_share: float = 1.0, why: str = "") -> Verdict:
    expectation = (f"only sessions held by {', '.join(sorted(lost_instances)) or 'the lost instance'} are lost "
                   f"(<= {max_lost_share:.0%} of users); every user who lost one logs in again")
    bound = {"max_lost_share_rate": max_lost_share, "lost_instances": sorted(lost_instances)}
    if fault_at is None:
        return not_measured("sessions", signal, expectation, "no fault was injected", bound=bound, why=why)
    mine = sorted((o for o in ops if o.signal == signal), key=lambda o: o.start)
    home: dict[int, object] = {}
    for o in mine:
        if o.outcome is Outcome.OK and o.end <= fault_at:
            home[o.process] = o.value
    if not home:
        return not_measured("sessions", signal, expectation, "no user had a session before the fault",
                            bound=bound, why=why)
    lost_at: dict[int, float] = {}
    for o in mine:
        if o.process in home and o.start >= fault_at and o.outcome is Outcome.FAIL and o.error == SESSION_LOST:
            lost_at[o.process] = max(lost_at.get(o.process, o.end), o.end)
    stranded = sorted(p for p, t in lost_at.items()
                      if not any(o.process == p and o.outcome is Outcome.OK and o.start >= t for o in mine))
    known = all(isinstance(v, str) for v in home.values())
    exposed = {p for p, inst in home.items() if inst in lost_instances}
    collateral = sorted(set(lost_at) - exposed) if known else []
    share = len(lost_at) / len(home)
    measured = {"users": len(home), "lost": len(lost_at), "lost_share_rate": round(share, 4),
                "users_on_lost_instances": len(exposed) if known else None,
                "lost_on_surviving_instances": len(collateral), "not_logged_in_again": len(stranded)}
    observed = f"{len(lost_at)} of {len(home)} users lost their session ({share:.0%})"
    if known:
        observed += f"; {len(exposed)} had it on {', '.join(sorted(lost_instances)) or 'a lost instance'}"
        if collateral:
            observed += f"; {len(collateral)} lost one held by a surviving instance"
    else:
        observed += "; the dashboards did not say which instance held each session"
    observed += f"; {len(stranded)} could not log in again" if stranded else "; all logged in again"
    ok = share <= max_lost_share and not stranded and not collateral
    return Verdict("sessions", signal, expectation, observed, judge(ok), measured, bound, why)


# ---- the expectation and the checker -------------------------------------------------------------


class Sessions(ExpectationModel):
    """Users whose in-memory dashboard session was lost with an instance (drills.checkers.sessions)."""

    checker: Literal["sessions"]
    signal: Literal["http.session"] = "http.session"
    max_lost_share: Float = Field(1.0, ge=0, le=1, description="Share of users (session processes) that may lose "
                                                               "their session. Always: only sessions held by the "
                                                               "lost instances, and every such user logs in again.")
    why: Why


def _check(exp: Sessions, ev: Evidence) -> list[Verdict]:
    lost = {name for fault in ev.faults for name in fault.resolved}
    return [check_sessions(ev.ops, exp.signal, fault_at=ev.fault_at, lost_instances=lost,
                           max_lost_share=exp.max_lost_share, why=exp.why)]


CHECKER = Checker(Sessions, _check, subject=lambda exp, scenario: str(exp.get("signal") or "http.session"))
