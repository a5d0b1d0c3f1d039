"""The back-after-heal checker on made-up histories: measured from the last heal, whatever the
holds before it; never a pass without a heal or an op after it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from drills.checkers.back_after_heal import check_back_after_heal
from drills.checkers.verdict import Status
from drills.core.events import last_heal
from drills.core.history import Event, Op, Outcome
from drills.files.scenario import Scenario
from drills.run.evaluate import RunFacts, evaluate

SIGNAL = "postgres.write"
STEP = 0.1  # one op every 100 ms, each taking 10 ms


def ops(outcomes: list[bool], start: float = 0.0, signal: str = SIGNAL) -> list[Op]:
    return [Op(signal, 0, "write", i, start + i * STEP, start + i * STEP + 0.01, Outcome.OK if ok else Outcome.FAIL)
            for i, ok in enumerate(outcomes)]


def check(history: list[Op], healed_at: float | None, bound: float = 5.0, sustain: float = 1.0):
    return check_back_after_heal(history, SIGNAL, healed_at, max_after_heal_s=bound, sustain_s=sustain)


def test_served_from_the_heal_on_is_back_at_once():
    v = check(ops([False] * 50 + [True] * 100), healed_at=5.0)  # down before the heal: not this checker's
    assert v.status is Status.PASS and v.measured["back_after_heal_s"] == 0.0
    assert v.observed == "served from the heal on"


def test_back_is_measured_from_the_heal_to_the_first_sustained_success():
    history = ops([True] * 50 + [False] * 40 + [True] * 30)  # healed at 5.0; failing until 9.0
    v = check(history, healed_at=5.0, bound=5.0)
    assert v.status is Status.PASS and v.measured["back_after_heal_s"] == 4.01  # the end of the op at 9.0
    assert check(history, healed_at=5.0, bound=3.0).status is Status.FAIL


@given(st.integers(0, 60), st.integers(0, 60), st.lists(st.booleans(), max_size=80))
def test_what_happened_before_the_heal_does_not_matter(down_after, up_after, before):
    """However long the holds before it and whatever they did, only what follows the heal counts."""
    healed_at = len(before) * STEP
    after = [False] * down_after + [True] * (up_after + 12)  # 12 ok ops span more than the 1 s sustain
    history = ops(before + after)
    v = check(history, healed_at, bound=100.0)
    alone = check(ops(after, start=healed_at), healed_at, bound=100.0)
    assert v.status is alone.status is Status.PASS
    assert abs(v.measured["back_after_heal_s"] - alone.measured["back_after_heal_s"]) < 1e-6
    expected = 0.0 if down_after == 0 else round(down_after * STEP + 0.01, 3)
    assert abs(v.measured["back_after_heal_s"] - expected) < 1e-6


@given(st.lists(st.booleans(), min_size=1, max_size=60))
def test_other_signals_do_not_matter(noise):
    history = ops([False] * 10 + [True] * 20)
    mixed = history + ops(noise, signal="rabbitmq.publish")
    assert check(mixed, 0.0) == check(history, 0.0)


def test_fail_closed_without_a_heal_or_an_op_after_it():
    assert check(ops([True] * 50), healed_at=None).status is Status.NOT_MEASURED
    v = check(ops([True] * 50), healed_at=10.0)
    assert v.status is Status.NOT_MEASURED and "no postgres.write op started after the heal" in v.observed


def test_never_back_fails_and_a_history_cut_short_is_not_measured_unless_already_too_late():
    assert check(ops([True] * 10 + [False] * 40), healed_at=1.0).status is Status.FAIL
    short = ops([True] * 10 + [False] * 20 + [True] * 3)  # back at 3.0 for 0.2 s: not sustained yet
    assert check(short, healed_at=1.0, bound=5.0).status is Status.NOT_MEASURED
    assert check(short, healed_at=1.0, bound=1.0).status is Status.FAIL  # no sooner than 2 s after the heal


def test_the_last_heal_is_the_start_of_the_last_heal_phase():
    events = [Event("inject", 3.0), Event("heal", 8.0), Event("inject", 9.0), Event("heal", 15.0), Event("recover", 16)]
    assert last_heal(events) == 15.0
    assert last_heal([Event("inject", 3.0), Event("hold-end", 8.0)]) is None


def test_a_scenario_judges_it_from_the_history():
    scenario = Scenario.model_validate({
        "id": "s", "title": "t", "policy": "p", "workload": {SIGNAL: {"rate": 10}},
        "steps": [{"fault": "kill", "target": "postgres.leader", "hold": "1s"}],
        "expectations": [{"checker": "back-after-heal", "signal": SIGNAL, "max_after_heal": "5s", "why": "w"}]})
    events = [Event("steady", 0.0), Event("inject", 2.0), Event("heal", 3.0), Event("after", 9.0), Event("end", 12.0)]
    history = ops([True] * 20 + [False] * 20 + [True] * 80)
    verdicts = evaluate(scenario, history, events, RunFacts())
    assert [(v.checker, v.status, v.measured["back_after_heal_s"]) for v in verdicts] == [
        ("back-after-heal", Status.PASS, 1.01)]
    assert all(v.status is not Status.PASS for v in evaluate(scenario, [], [], RunFacts()))
