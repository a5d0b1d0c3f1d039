"""The sessions checker on synthetic histories of users probing their dashboard session."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from drills.checkers.sessions import SESSION_LOST, check_sessions
from drills.checkers.verdict import Status
from drills.core.history import Op, Outcome
from drills.workload import http

SIGNAL = "http.session"
FAULT = 10.0
DEAD, ALIVE = "dashboard1", "dashboard2"


def user_history(process: int, home: str, loses: bool, relogs: bool) -> list[Op]:
    ops = [Op(SIGNAL, process, "session", home, t, t + 0.01, Outcome.OK) for t in (1.0, 5.0, 9.0)]
    if loses:
        ops.append(Op(SIGNAL, process, "session", home, 12.0, 12.01, Outcome.FAIL, SESSION_LOST))
        ops.append(Op(SIGNAL, process, "session", ALIVE, 13.0, 13.01,
                      Outcome.OK if relogs else Outcome.FAIL, None if relogs else "login: HTTP 503"))
    else:
        ops.append(Op(SIGNAL, process, "session", home, 12.0, 12.01, Outcome.OK))
    return ops


def test_the_error_is_the_one_the_probe_records():
    assert SESSION_LOST == http.SESSION_LOST


@given(st.lists(st.tuples(st.sampled_from([DEAD, ALIVE]), st.booleans(), st.booleans()), min_size=1, max_size=30),
       st.floats(min_value=0, max_value=1))
def test_only_sessions_of_the_lost_instance_may_be_lost(users, max_share):
    ops = [op for i, (home, loses, relogs) in enumerate(users) for op in user_history(i, home, loses, relogs)]
    v = check_sessions(ops, SIGNAL, fault_at=FAULT, lost_instances={DEAD}, max_lost_share=max_share)
    lost = sum(1 for _, loses, _ in users if loses)
    collateral = sum(1 for home, loses, _ in users if loses and home == ALIVE)
    stranded = sum(1 for _, loses, relogs in users if loses and not relogs)
    assert v.measured["users"] == len(users) and v.measured["lost"] == lost
    assert v.measured["lost_on_surviving_instances"] == collateral
    assert v.measured["users_on_lost_instances"] == sum(1 for home, _, _ in users if home == DEAD)
    assert v.measured["not_logged_in_again"] == stranded
    assert v.passed == (lost / len(users) <= max_share and stranded == 0 and collateral == 0)


def test_a_failure_that_is_not_a_lost_session_is_not_counted():
    ops = [*user_history(0, ALIVE, False, False), Op(SIGNAL, 0, "session", ALIVE, 11.0, 11.5, Outcome.FAIL, "HTTP 503")]
    v = check_sessions(ops, SIGNAL, fault_at=FAULT, lost_instances={DEAD})
    assert v.passed and v.measured["lost"] == 0


def test_without_users_or_fault_it_is_not_measured():
    assert check_sessions([], SIGNAL, fault_at=FAULT, lost_instances={DEAD}).status is Status.NOT_MEASURED
    ops = user_history(0, DEAD, True, True)
    assert check_sessions(ops, SIGNAL, fault_at=None, lost_instances={DEAD}).status is Status.NOT_MEASURED
