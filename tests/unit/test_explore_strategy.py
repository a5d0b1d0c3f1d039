"""Schedules drawn from a fault space: every one is a scenario `drill validate` accepts and `drill
run` replays, and Hypothesis shrinks a failing one toward fewer steps, shorter holds, the first
fault kind listed, simpler targets and the first value of each field."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from drills.explore.schedule import SUITE, header_lines, scenario_of, scenario_yaml
from drills.explore.space import describe, single_steps, witness_steps
from drills.explore.strategy import DrawnStep, breadth, rank_targets, schedules
from drills.files.exploration import Exploration, load_exploration
from drills.files.scenario import check_file

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "explorations" / "postgres-failover.yaml"
ROLES = ["postgres.*", "postgres.replica", "postgres.leader", "postgres.replica[1]", "etcd", "clients", "pg2",
         "rabbitmq.leader@notifications", "rabbitmq.follower", "mongo.primary", "dashboard[0]", "dashboard"]


def every_kind() -> Exploration:
    """A space holding every fault kind, with values for the fields of those that have them."""
    pg = ["postgres.*", "postgres.leader", "postgres.replica"]
    return Exploration.model_validate({
        "id": "every-kind", "title": "Every kind", "workload": {"postgres.write": {"rate": 50}},
        "backup": {"component": "postgres", "interval": "5s"}, "steady": "2s",
        "fault_space": {"faults": [
            {"kind": "kill", "targets": pg},
            {"kind": "stop-respawn", "targets": pg, "with": {"timeout": ["1s", "10s"]}},
            {"kind": "pause", "targets": pg, "hold": {"min": "2s", "max": "4s"}},
            {"kind": "restart-services", "targets": ["clients", "dashboard[0]"]},
            {"kind": "partition", "targets": pg, "with": {
                "from": [["postgres.*"], ["postgres.*", "etcd.*"], ["clients"]], "direction": ["both", "in", "out"]}},
            {"kind": "latency", "targets": pg, "with": {"delay": ["200ms", "1s"], "jitter": ["50ms"]}},
            {"kind": "loss", "targets": pg, "with": {"percent": [10, 100]}},
            {"kind": "disk-loss", "targets": ["postgres.replica[0]"]},
            {"kind": "corrupt", "targets": ["postgres.replica[0]"], "with": {"files": [1, 3]}},
            {"kind": "total-failure", "targets": ["postgres.*"], "with": {"keep_disks": [True, False]}},
            {"kind": "disk-full", "targets": ["postgres.replica[0]"]},
            {"kind": "restore-backup", "targets": ["postgres.*"], "with": {"method": ["dump"]}},
        ], "hold": {"min": 0, "max": 30}, "steps": {"min": 1, "max": 4}},
        "recovery": {"timeout": "90s", "conditions": ["postgres"]}, "after": "2s",
        "invariants": [
            {"checker": "lost-writes", "signal": "postgres.write", "max_lost": 0, "why": "nothing acknowledged lost"},
            {"checker": "split-brain", "max_overlap": "0s", "why": "never two leaders"},
            {"checker": "availability", "signal": "postgres.write", "max_rto": "60s", "why": "back within a minute"},
            {"checker": "back-after-heal", "signal": "postgres.write", "max_after_heal": "30s", "why": "back soon"},
        ],
    })


def test_the_space_holds_every_fault_kind():
    from drills.faults.registry import FAULTS

    assert {choice.kind for choice in every_kind().fault_space.faults} == set(FAULTS)


def replayed(exploration: Exploration, steps: list[DrawnStep]) -> list[str]:
    """The problems `drill validate` finds in the scenario file written for `steps`."""
    text = scenario_yaml(scenario_of(exploration, steps), header_lines("x.yaml", exploration, seed=1))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "drawn.yaml"
        path.write_text(text)
        scenario, problems = check_file(path)
    assert problems or scenario is not None
    if scenario is not None:
        assert [(s.fault, s.target, s.hold, s.overlaps_next) for s in scenario.steps] == \
            [(s.kind, s.target, s.hold, s.overlaps_next) for s in steps]
        assert scenario.suites == (SUITE,)
    return [str(p) for p in problems]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_every_schedule_of_every_kind_validates_as_a_scenario(data):
    exploration = every_kind()
    steps = data.draw(schedules(exploration))
    assert 1 <= len(steps) <= 4
    assert replayed(exploration, steps) == []


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_every_schedule_of_the_example_validates_as_a_scenario(data):
    exploration = load_exploration(EXAMPLE)
    steps = data.draw(schedules(exploration))
    assert all(1 <= s.hold <= 15 for s in steps)
    assert replayed(exploration, steps) == []


def overlapping(exploration: Exploration) -> Exploration:
    space = exploration.fault_space.model_copy(update={"overlap": True})
    return exploration.model_copy(update={"fault_space": space})


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_with_overlap_every_schedule_validates_and_only_a_step_with_a_next_overlaps(data):
    exploration = overlapping(every_kind())
    steps = data.draw(schedules(exploration))
    assert not steps[-1].overlaps_next
    assert replayed(exploration, steps) == []


def test_with_overlap_schedules_that_overlap_are_drawn_and_shrinking_moves_away_from_overlap():
    exploration = overlapping(load_exploration(EXAMPLE))
    found = find(schedules(exploration), lambda s: any(step.overlaps_next for step in s))
    assert found == [DrawnStep("kill", "postgres.leader", 1, overlaps_next=True),
                     DrawnStep("kill", "postgres.leader", 1)]
    two = find(schedules(exploration), lambda s: len(s) >= 2)
    assert not any(step.overlaps_next for step in two)


def test_shrinking_finds_one_step_held_exactly_as_long_as_the_predicate_needs():
    exploration = load_exploration(EXAMPLE)
    found = find(schedules(exploration), lambda s: any(step.hold >= 7 for step in s))
    assert found == [DrawnStep("kill", "postgres.leader", 7)]


def test_shrinking_drops_steps_and_shortens_holds():
    exploration = load_exploration(EXAMPLE)
    found = find(schedules(exploration), lambda s: len(s) >= 2)
    assert found == [DrawnStep("kill", "postgres.leader", 1)] * 2


def test_shrinking_moves_toward_simpler_targets_and_the_first_value_of_each_field():
    exploration = load_exploration(EXAMPLE)
    found = find(schedules(exploration), lambda s: any(step.kind == "partition" for step in s))
    assert found == [DrawnStep("partition", "postgres.leader", 1, (("direction", "both"), ("from", ("postgres.*",))))]
    whole = find(schedules(exploration), lambda s: any(step.target == "postgres.*" for step in s))
    assert whole == [DrawnStep("kill", "postgres.*", 1)]


def test_a_synthetic_invariant_broken_by_a_long_leader_pause_shrinks_to_that_pause():
    """An "invariant" that fails when the leader is paused 5 s or more, whatever else happens."""
    exploration = load_exploration(EXAMPLE)

    def broken(steps: list[DrawnStep]) -> bool:
        return any(s.kind == "pause" and s.target == "postgres.leader" and s.hold >= 5 for s in steps)

    found = find(schedules(exploration), broken, settings=settings(max_examples=2000, database=None))
    assert found == [DrawnStep("pause", "postgres.leader", 5)]


@given(st.lists(st.sampled_from(ROLES), min_size=1))
def test_targets_are_ordered_simple_to_complex_keeping_the_files_order_within_a_rank(roles):
    ranked = rank_targets(roles)
    assert sorted(ranked) == sorted(set(roles))
    assert [breadth(r) for r in ranked] == sorted(breadth(r) for r in ranked)
    for rank in (0, 1, 2):
        same = [r for r in ranked if breadth(r) == rank]
        assert same == [r for r in dict.fromkeys(roles) if breadth(r) == rank]


def test_breadth_of_roles():
    assert [breadth(r) for r in ("postgres.leader", "postgres.replica[0]", "mongo.primary", "dashboard[1]")] == [0] * 4
    assert [breadth(r) for r in ("postgres.replica", "rabbitmq.follower", "pg2", "dashboard")] == [1] * 4
    assert [breadth(r) for r in ("postgres.*", "postgres", "etcd", "clients")] == [2] * 4


def test_the_scenario_is_named_by_its_schedule_and_headed_by_where_it_came_from():
    exploration = load_exploration(EXAMPLE)
    steps = [DrawnStep("pause", "postgres.leader", 5), DrawnStep("kill", "postgres.replica", 3)]
    data = scenario_of(exploration, steps)
    assert data["id"] == scenario_of(exploration, list(steps))["id"] != scenario_of(exploration, steps[:1])["id"]
    assert data["id"].startswith("postgres-failover-")
    assert data["title"].endswith("pause postgres.leader 5s; kill postgres.replica 3s")
    assert data["expectations"] == [inv.model_dump(mode="json", by_alias=True, exclude_unset=True)
                                    for inv in exploration.invariants]
    text = scenario_yaml(data, header_lines(EXAMPLE.name, exploration, seed=42, reproduced=(2, 3)))
    head = text.splitlines()[:3]
    assert head[0] == "# Drawn by `drill explore postgres-failover.yaml` (exploration postgres-failover), seed 42."
    assert head[1] == "# Re-run 3 time(s) before it was accepted: an invariant failed in 2 of 3."
    assert head[2].startswith("# Replay: drill run")


def test_the_number_of_different_steps_of_the_example():
    # kill and pause: 3 targets x 15 holds; partition: 3 targets x 15 holds x 3 `from` x 3 directions,
    # less postgres.* cut from postgres.* (3 directions x 15 holds): nothing left to cut it from.
    assert single_steps(load_exploration(EXAMPLE)) == (2 * 3 * 15 + 3 * 15 * 3 * 3, 3 * 15)


def test_a_space_too_large_to_count_says_so_and_its_witnesses_hold_every_target_and_value():
    # issue 19: counting the refused steps of 1,500 targets by `from` lists of 1,000 roles validated
    # every combination, each a 1,000-role list: 41 s before `drill explore` drew anything.
    example = load_exploration(EXAMPLE).model_dump(mode="json", by_alias=True, exclude_unset=True)
    partition = example["fault_space"]["faults"][2]
    partition["targets"] = [f"pg{i}" for i in range(1500)]
    partition["with"]["from"] = [[ROLES[(i + k) % len(ROLES)] for k in range(1000)] for i in range(3)]
    big = Exploration.model_validate(example)
    assert single_steps(big) == (2 * 3 * 15 + 1500 * 3 * 3 * 15, None)
    assert "too many to count those their fault kinds refuse" in describe(big)[1]
    small = witness_steps(big)
    assert {s.target for s in small if s.kind == "partition"} < set(partition["targets"]), "within the bound"
    full = witness_steps(load_exploration(EXAMPLE))
    assert {(s.kind, s.target) for s in full} == {(k, t) for k in ("kill", "pause", "partition")
                                                  for t in ("postgres.leader", "postgres.replica", "postgres.*")}
    assert {s.fields for s in full if s.kind == "partition"} >= {
        (("direction", d), ("from", f)) for d, f in zip(("both", "in", "out"),
                                                        (("postgres.*",), ("postgres.*", "etcd.*"), ("clients",)),
                                                        strict=True)}


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_combination_its_fault_kind_refuses_is_never_drawn(data):
    steps = data.draw(schedules(load_exploration(EXAMPLE)))
    for step in steps:
        cut_from_itself = step.target == "postgres.*" and ("from", ("postgres.*",)) in step.fields
        assert not (step.kind == "partition" and cut_from_itself)
