"""The sessions checker on synthetic histories of users probing their dashboard session."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from drills.checkers.sessions import SESSION_LOST, check_sessions
from drills.checkers.verdict import Status
from drills.history import Op, Outcome
from drills.workload import http

SIGNAL = "http.session"
FAULT = 10.0


def user_history(process: int, loses: bool, relogs: bool) -> list[Op]:
    ops = [Op(SIGNAL, process, "session", None, t, t + 0.01, Outcome.OK) for t in (1.0, 5.0, 9.0)]
    if loses:
        ops.append(Op(SIGNAL, process, "session", None, 12.0, 12.01, Outcome.FAIL, SESSION_LOST))
        ops.append(Op(SIGNAL, process, "session", None, 13.0, 13.01,
                      Outcome.OK if relogs else Outcome.FAIL, None if relogs else "login: HTTP 503"))
    else:
        ops.append(Op(SIGNAL, process, "session", None, 12.0, 12.01, Outcome.OK))
    return ops


def test_the_error_is_the_one_the_probe_records():
    assert SESSION_LOST == http.SESSION_LOST


@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=30),
       st.floats(min_value=0, max_value=1))
def test_counts_users_who_lost_their_session_and_judges_the_share(users, max_share):
    ops = [op for i, (loses, relogs) in enumerate(users) for op in user_history(i, loses, relogs)]
    v = check_sessions(ops, SIGNAL, fault_at=FAULT, max_lost_share=max_share)
    lost = sum(1 for loses, _ in users if loses)
    stranded = sum(1 for loses, relogs in users if loses and not relogs)
    assert v.measured["users"] == len(users) and v.measured["lost"] == lost
    assert v.measured["not_logged_in_again"] == stranded
    assert v.passed == (lost / len(users) <= max_share and stranded == 0)


def test_a_failure_that_is_not_a_lost_session_is_not_counted():
    ops = [*user_history(0, False, False), Op(SIGNAL, 0, "session", None, 11.0, 11.5, Outcome.FAIL, "HTTP 503")]
    v = check_sessions(ops, SIGNAL, fault_at=FAULT, max_lost_share=0.0)
    assert v.passed and v.measured["lost"] == 0


def test_without_users_or_fault_it_is_not_measured():
    assert check_sessions([], SIGNAL, fault_at=FAULT, max_lost_share=0.5).status is Status.NOT_MEASURED
    ops = user_history(0, True, True)
    assert check_sessions(ops, SIGNAL, fault_at=None, max_lost_share=0.5).status is Status.NOT_MEASURED
