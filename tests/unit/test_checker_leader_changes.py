"""The leader-changes checker (no flapping) on synthetic `leaders` samples, and as a scenario uses it."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drills.checkers.leader_changes import check_leader_changes
from drills.checkers.registry import CHECKERS, samples_needed
from drills.checkers.verdict import Status
from drills.core.errors import ScenarioError
from drills.core.history import Event
from drills.files.scenario import Scenario, load_scenario
from drills.run.evaluate import RunFacts, evaluate
from tests.unit.test_checker_split_brain import NODES, samples

LEADER_SETS = st.sets(st.sampled_from(NODES), max_size=2).map(lambda s: tuple(sorted(s)))


def naive_changes(sets: list[tuple[str, ...]]) -> int:
    """Leadership changed when a sample names a leader the previous sample with any leader did not."""
    led = [s for s in sets if s]
    return sum(1 for before, after in itertools.pairwise(led) if set(after) - set(before))


@given(st.lists(LEADER_SETS, min_size=2, max_size=60), st.integers(0, 5))
def test_changes_are_counted_and_judged_against_the_bound(sets, bound):
    v = check_leader_changes(samples(sets), "postgres", max_changes=bound)
    if not any(sets):
        assert v.status is Status.NOT_MEASURED
        return
    assert v.measured["changes"] == naive_changes(sets)
    assert v.status is (Status.PASS if naive_changes(sets) <= bound else Status.FAIL)
    assert v.measured["leaders_seen"] == sorted({n for s in sets for n in s})


@given(st.lists(LEADER_SETS, min_size=2, max_size=30), st.randoms())
def test_the_order_events_arrive_in_and_other_components_do_not_matter(sets, rnd):
    events = samples(sets)
    noise = [Event("leaders", e.at + 0.01, {"component": "mongo", "leaders": ["m1", "m2"]}) for e in events]
    noise += [Event("fault", 1.0, {"leaders": ["pg1"]})]
    mixed = events + noise
    rnd.shuffle(mixed)
    assert check_leader_changes(mixed, "postgres", max_changes=1) == check_leader_changes(events, "postgres",
                                                                                          max_changes=1)


@given(st.sampled_from(NODES), st.lists(st.booleans(), min_size=2, max_size=30))
def test_one_leader_through_leaderless_spells_is_no_change(node, present):
    """A restart of the leader (no leader for a while, then the same node) is no change."""
    sets = [(node,)] + [(node,) if p else () for p in present]
    v = check_leader_changes(samples(sets), "postgres", max_changes=0)
    assert v.passed and v.measured["changes"] == 0 and "no leader change" in v.observed


@given(st.integers(1, 12))
def test_flapping_between_two_nodes_counts_every_handover(handovers):
    sets = [("pg1",) if i % 2 == 0 else ("pg2",) for i in range(handovers + 1)]
    v = check_leader_changes(samples(sets), "postgres", max_changes=1)
    assert v.measured["changes"] == handovers
    assert v.passed == (handovers <= 1)
    assert "pg1 -> pg2 at t=0.25 s" in v.observed


def test_a_failover_is_one_change_and_a_second_leader_beside_the_first_is_one():
    failover = check_leader_changes(samples([("pg1",), (), (), ("pg2",), ("pg2",)]), "postgres", max_changes=1)
    assert failover.passed and failover.measured["changes"] == 1
    split = check_leader_changes(samples([("pg1",), ("pg1", "pg2"), ("pg2",)]), "postgres", max_changes=0)
    assert split.status is Status.FAIL and split.measured["changes"] == 1
    assert "pg1 -> pg1, pg2 at t=0.25 s" in split.observed


@given(st.lists(LEADER_SETS, max_size=1), st.integers(0, 5))
def test_without_evidence_it_is_never_a_pass(sets, bound):
    """No samples, one sample (the sampler never ended), or nobody ever leading: NOT MEASURED."""
    assert check_leader_changes(samples(sets), "postgres", max_changes=bound).status is Status.NOT_MEASURED
    leaderless = samples([()] * (len(sets) + 3))
    v = check_leader_changes(leaderless, "postgres", max_changes=bound)
    assert v.status is Status.NOT_MEASURED and "no node claimed leadership" in v.observed


SCENARIO = """\
id: leader-changes-demo
title: The leader is killed once; leadership moves once
policy: No service degradation is expected.
component: postgres
workload:
  postgres.write: {rate: 50}
steps:
  - fault: kill
    target: postgres.leader
    hold: 5s
expectations:
  - checker: leader-changes
    max_changes: 1
    why: one failover for one killed leader; a second election is flapping
"""


def test_a_scenario_file_uses_it_and_the_runner_samples_leaders_for_it(tmp_path):
    path = tmp_path / "demo.yaml"
    path.write_text(SCENARIO)
    scenario: Scenario = load_scenario(path)
    assert "leader-changes" in CHECKERS
    assert samples_needed(scenario.expectations) == {"leaders"}
    sets = [("pg1",)] * 3 + [()] * 4 + [("pg2",)] * 5
    [verdict] = evaluate(scenario, [], samples(sets), RunFacts())
    assert (verdict.checker, verdict.subject, verdict.status) == ("leader-changes", "postgres", Status.PASS)
    [unsampled] = evaluate(scenario, [], [], RunFacts())
    assert unsampled.status is Status.NOT_MEASURED
    path.write_text(SCENARIO.replace("    max_changes: 1\n", ""))
    with pytest.raises(ScenarioError, match=r"expectations\[0\]\.max_changes: required field is missing"):
        load_scenario(path)  # the bound is required: no default the policy did not choose


def test_random_histories_through_evaluate_match_the_pure_function():
    rnd = random.Random(11)
    scenario_sets = [[tuple(sorted(rnd.sample(NODES, rnd.choice([0, 1, 1, 2])))) for _ in range(rnd.randint(0, 20))]
                     for _ in range(50)]
    path_free = Scenario.model_validate({
        "id": "x", "title": "x", "policy": "x", "workload": {"postgres.write": {}},
        "steps": [{"fault": "kill", "target": "postgres.leader"}],
        "expectations": [{"checker": "leader-changes", "max_changes": 2, "why": "w"}]})
    for sets in scenario_sets:
        [v] = evaluate(path_free, [], samples(sets), RunFacts())
        assert v == check_leader_changes(samples(sets), "postgres", max_changes=2, why="w")
