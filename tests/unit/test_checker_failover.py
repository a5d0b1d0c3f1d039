"""The failover checker on synthetic histories: a replica taking over passes; the hit leader coming
back first (a restart, a resumed freeze) or taking the lock back fails; nothing sampled or no leader
hit is NOT MEASURED, never a pass."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from drills.checkers.failover import check_failover, takeover
from drills.checkers.verdict import Status
from drills.history import Event

NODES = ("pg1", "pg2", "pg3")
STEP = 0.25


def history(before: list[tuple[str, ...]], after: list[tuple[str, ...]], hit: tuple[str, ...]) -> list[Event]:
    """Leader samples every 0.25 s, `before` the fault then `after` it, with the runner's inject
    phase and fault event in between (a sample may land between the two)."""
    events = [Event("leaders", i * STEP, {"component": "postgres", "leaders": list(s)}) for i, s in enumerate(before)]
    t = len(before) * STEP
    events += [Event("inject", t - 0.1, {}), Event("fault", t - 0.05, {"kind": "kill", "target": "postgres.leader",
                                                                         "resolved": list(hit)})]
    events += [Event("leaders", t + i * STEP, {"component": "postgres", "leaders": list(s)})
               for i, s in enumerate(after)]
    return events


def test_a_replica_taking_over_passes():
    v = check_failover(history([("pg1",)], [(), ("pg2",), ("pg2",)], ("pg1",)), "postgres")
    assert v.status is Status.PASS, v.observed
    assert v.measured["took_over"] == "pg2" and v.measured["takeover_s"] == 0.3


def test_the_same_node_leading_again_is_a_restart_not_a_failover():
    v = check_failover(history([("pg1",)], [(), ("pg1",)], ("pg1",)), "postgres")
    assert v.status is Status.FAIL
    assert "not a failover" in v.observed and v.measured["took_over"] is None


def test_the_hit_node_taking_the_lock_back_fails_though_a_replica_took_over():
    v = check_failover(history([("pg2",)], [(), ("pg3",), (), ("pg2",)], ("pg2",)), "postgres")
    assert v.status is Status.FAIL and v.measured["took_over"] == "pg3"
    assert "took leadership back" in v.observed
    assert check_failover(history([("pg2",)], [(), ("pg3",), (), ("pg2",)], ("pg2",)), "postgres",
                          back_as_replica=False).status is Status.PASS


def test_a_takeover_too_late_fails_its_bound():
    after = [()] * 40 + [("pg3",)]  # 10 s leaderless
    assert check_failover(history([("pg1",)], after, ("pg1",)), "postgres", within_s=5).status is Status.FAIL
    assert check_failover(history([("pg1",)], after, ("pg1",)), "postgres", within_s=15).status is Status.PASS


def test_nothing_sampled_or_no_leader_hit_is_not_measured():
    assert check_failover([], "postgres").status is Status.NOT_MEASURED
    replica_hit = history([("pg1",)], [("pg1",)], ("pg2",))
    assert check_failover(replica_hit, "postgres").status is Status.NOT_MEASURED
    nobody_led = history([()], [(), ()], ("pg1",))
    assert check_failover(nobody_led, "postgres").status is Status.NOT_MEASURED


def test_a_sample_between_the_injection_and_its_fault_event_does_not_hide_the_leader():
    events = history([("pg1",)], [(), ("pg2",)], ("pg1",))
    events.append(Event("leaders", events[1].at + 0.06, {"component": "postgres", "leaders": []}))
    assert check_failover(events, "postgres").status is Status.PASS


LEADERS = st.lists(st.sampled_from(NODES), max_size=1).map(tuple)


@given(st.sampled_from(NODES), st.lists(LEADERS, min_size=1, max_size=40))
def test_a_pass_always_names_another_node_that_led_and_the_hit_one_not_leading_at_the_end(hit, after):
    events = history([(hit,)], after, (hit,))
    v = check_failover(events, "postgres")
    t = takeover(events, "postgres")
    assert t is not None
    others = [s for s in after if s and s[0] != hit]
    if v.status is Status.PASS:
        assert others and t.by == others[0][0] and after[-1] and after[-1][0] != hit
    else:
        assert v.status is Status.FAIL
        assert not others or not after[-1] or after[-1][0] == hit


def test_the_leaderless_spell_may_begin_before_the_fault_event_and_a_restart_is_still_seen():
    """The kill lands while the inject phase runs: the leaderless sample precedes the fault event
    (seen on the no-failover example: leaders [] at 5.19 s, fault event at 5.51 s, pg1 back at 23.9 s)."""
    events = [Event("leaders", 0.16, {"component": "postgres", "leaders": ["pg1"]}),
              Event("inject", 5.16, {}),
              Event("leaders", 5.19, {"component": "postgres", "leaders": []}),
              Event("fault", 5.51, {"kind": "kill", "target": "postgres.leader", "resolved": ["pg1"]}),
              Event("leaders", 23.91, {"component": "postgres", "leaders": ["pg1"]}),
              Event("leaders", 31.25, {"component": "postgres", "leaders": ["pg1"]})]
    v = check_failover(events, "postgres")
    assert v.status is Status.FAIL
    assert "pg1 led again at t=23.91 s (a restart or a resume, not a failover)" in v.observed
