"""The failover checker on synthetic histories: a replica taking over passes; the hit leader coming
back first (a restart, a resumed freeze) or taking the lock back fails; nothing sampled or no leader
hit is NOT MEASURED, never a pass. The same for a RabbitMQ quorum queue's leader (`rabbitmq@<queue>`
samples), judged apart from any other component's."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drills.checkers.failover import CHECKER, Failover, check_failover, sampled_as, takeover
from drills.checkers.protocol import FileView
from drills.checkers.registry import sampled_of, subject_of
from drills.checkers.verdict import Status
from drills.core.history import Event

NODES = ("pg1", "pg2", "pg3")
STEP = 0.25


def history(before: list[tuple[str, ...]], after: list[tuple[str, ...]], hit: tuple[str, ...], *,
            component: str = "postgres", step: float = STEP) -> list[Event]:
    """Leader samples every `step` s, `before` the fault then `after` it, with the runner's inject
    phase and fault event in between (a sample may land between the two)."""
    events = [Event("leaders", i * step, {"component": component, "leaders": list(s)}) for i, s in enumerate(before)]
    t = len(before) * step
    events += [Event("inject", t - 0.1, {}), Event("fault", t - 0.05, {"kind": "kill", "target": "postgres.leader",
                                                                         "resolved": list(hit)})]
    events += [Event("leaders", t + i * step, {"component": component, "leaders": list(s)})
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


# ---- a RabbitMQ quorum queue's leader --------------------------------------------------------------

RABBITS = ("rabbit1", "rabbit2", "rabbit3")
QUEUE_KEY = "rabbitmq@drill-events"


def queue_history(before: list[tuple[str, ...]], after: list[tuple[str, ...]], hit: tuple[str, ...]) -> list[Event]:
    """The queue sampler's events (every 0.5 s, component rabbitmq@drill-events) around a fault on
    rabbitmq.leader@drill-events."""
    return history(before, after, hit, component=QUEUE_KEY, step=0.5)


def test_a_queue_leader_elected_on_another_node_while_the_hit_one_is_frozen_passes():
    after = [("rabbit2",)] * 24 + [(), ("rabbit3",)] + [("rabbit3",)] * 60  # 12.5 s stale, then elected
    v = check_failover(queue_history([("rabbit2",)], after, ("rabbit2",)), QUEUE_KEY, within_s=20)
    assert v.status is Status.PASS, v.observed
    assert v.subject == QUEUE_KEY and v.measured["took_over"] == "rabbit3" and v.measured["takeover_s"] == 12.55


def test_the_hit_node_coming_back_still_leading_the_queue_is_no_failover():
    after = [()] * 40 + [("rabbit2",)] * 10  # nobody named while frozen, then the node resumed, leading
    v = check_failover(queue_history([("rabbit2",)], after, ("rabbit2",)), QUEUE_KEY, within_s=20)
    assert v.status is Status.FAIL and v.measured["took_over"] is None
    assert "not a failover" in v.observed


def test_a_takeover_after_the_hold_fails_the_bound():
    after = [("rabbit2",)] * 44 + [("rabbit1",)] * 4  # another node only 22 s after the fault
    assert check_failover(queue_history([("rabbit2",)], after, ("rabbit2",)), QUEUE_KEY,
                          within_s=20).status is Status.FAIL


def test_the_queue_and_postgres_are_judged_apart():
    pg = history([("pg1",)], [(), ("pg2",)], ("pg1",))
    queue = [e for e in queue_history([("rabbit1",)], [("rabbit1",)] * 4, ("rabbit1",)) if e.name == "leaders"]
    assert check_failover(pg + queue, "postgres").status is Status.PASS
    assert check_failover(pg + queue, QUEUE_KEY).status is Status.NOT_MEASURED  # the fault hit no queue leader
    assert check_failover(pg, QUEUE_KEY).status is Status.NOT_MEASURED  # nothing sampled of the queue


@given(st.sampled_from(RABBITS), st.lists(st.lists(st.sampled_from(RABBITS), max_size=2, unique=True).map(tuple),
                                          min_size=1, max_size=60))
def test_a_queue_pass_names_a_node_other_than_the_hit_one_and_ends_without_it(hit, after):
    """Several names in one sample (a cut-off node's stale view beside the majority's) included."""
    events = queue_history([(hit,)], after, (hit,))
    v = check_failover(events, QUEUE_KEY, within_s=20)
    firsts = [(i, n) for i, s in enumerate(after) for n in sorted(s) if n != hit]
    if v.status is Status.PASS:
        assert firsts and v.measured["took_over"] == firsts[0][1] and firsts[0][0] * 0.5 + 0.05 <= 20
        assert after[-1] and hit not in after[-1]
    else:
        assert v.status is Status.FAIL
        assert not firsts or firsts[0][0] * 0.5 + 0.05 > 20 or not after[-1] or hit in after[-1]


def test_the_expectation_samples_and_is_about_the_queue():
    exp = Failover.model_validate({"checker": "failover", "component": "rabbitmq", "queue": "drill-events",
                                   "within": "20s", "why": "w"})
    pg = Failover.model_validate({"checker": "failover", "why": "w"})
    assert sampled_as("rabbitmq", "drill-events") == QUEUE_KEY and sampled_as("postgres", None) == "postgres"
    assert sampled_of([exp, pg], "leaders") == {QUEUE_KEY, "postgres"}
    assert sampled_of([exp], "backups") == frozenset()
    plain = exp.model_dump(mode="json")
    assert subject_of(plain, {}) == QUEUE_KEY and subject_of(pg.model_dump(mode="json"), {}) == "postgres"
    assert list(plain)[:3] == ["checker", "component", "queue"] and list(plain)[-1] == "why"


VIEW = FileView({}, None, None, None, None, None)


@pytest.mark.parametrize(("exp", "problem"), [
    ({"component": "rabbitmq"}, ((), "say whose leadership must move: `queue:`")),
    ({"component": "postgres", "queue": "drill-events"}, (("queue",), "applies to component rabbitmq only")),
    ({"queue": "drill-events"}, (("queue",), "applies to component rabbitmq only")),
])
def test_a_queue_missing_or_misplaced_is_a_located_problem(exp, problem):
    found = list(CHECKER.problems({"checker": "failover", "why": "w", **exp}, VIEW))
    assert len(found) == 1 and found[0][0] == problem[0] and problem[1] in found[0][1]
    assert not list(CHECKER.problems({"checker": "failover", "component": "rabbitmq", "queue": "q", "why": "w"}, VIEW))
