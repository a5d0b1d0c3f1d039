"""The search of `drill explore` against synthetic systems (a function of the schedule, no Docker):
it finds and shrinks a failing schedule, re-runs a failure before accepting it, never reports a
one-off failure as minimal, keeps to its budget, replays a known failure from its database first,
and stops on a harness error without shrinking on it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from random import Random

import pytest

from drills.core.errors import HarnessError
from drills.explore.search import ScheduleOutcome, database_at, search
from drills.explore.strategy import DrawnStep
from drills.files.exploration import load_exploration

ROOT = Path(__file__).resolve().parents[2]
EXPLORATION = load_exploration(ROOT / "explorations" / "postgres-failover.yaml")
SPLIT = "split-brain postgres"
LOST = "lost-writes postgres.write"


def long_leader_pause(steps: Sequence[DrawnStep]) -> bool:
    return any(s.kind == "pause" and s.target == "postgres.leader" and s.hold >= 5 for s in steps)


class System:
    """A stand-in for the stack: which invariants a schedule breaks, with some chance of it."""

    def __init__(self, breaks=lambda steps: (SPLIT,) if long_leader_pause(steps) else (), chance=1.0, seed=0):
        self.breaks, self.chance, self.random, self.calls = breaks, chance, Random(seed), []

    def __call__(self, steps: Sequence[DrawnStep]) -> ScheduleOutcome:
        self.calls.append(tuple(steps))
        broken = self.breaks(steps)
        if broken and self.random.random() < self.chance:
            return ScheduleOutcome("failed", tuple(broken))
        return ScheduleOutcome("passed")


def test_a_failing_schedule_is_found_confirmed_and_shrunk_to_its_minimum():
    system = System()
    result = search(EXPLORATION, system, seed=1, max_examples=200)
    assert result.minimal is not None and result.minimal.steps == (DrawnStep("pause", "postgres.leader", 5),)
    assert [r.failed for r in result.minimal.runs] == [(SPLIT,), (SPLIT,)]  # re-run once: 2 of 2
    assert result.sought == (SPLIT,) and result.shrink_steps >= 1 and not result.budget_spent
    assert result.runs == len(system.calls) == sum(len(t.runs) for t in result.examples)
    assert len(set(system.calls)) == len(result.examples)  # a schedule judged once is never run again for it


def test_a_failure_seen_once_is_reported_flaky_not_failing():
    once = iter([True])
    system = System(breaks=lambda steps: (LOST,) if next(once, False) else ())
    result = search(EXPLORATION, system, seed=2, max_examples=30)
    assert result.minimal is None
    assert [(t.failures, len(t.runs)) for t in result.flaky] == [(1, 3)]


def test_a_sometimes_failing_system_is_shrunk_on_confirmed_failures_only():
    system = System(chance=0.7, seed=3)
    result = search(EXPLORATION, system, seed=3, max_examples=200)
    assert result.minimal is not None and long_leader_pause(result.minimal.steps)
    for tally in result.examples:
        assert tally.failing == (tally.failures * 2 > len(tally.runs))
        assert len(tally.runs) <= 3
    assert result.minimal.failures >= 2


def test_shrinking_does_not_slip_to_another_invariant():
    """A smaller schedule that breaks something else is not taken as a smaller case of the first:
    here two steps with a long leader pause break split-brain, one long kill alone loses writes."""
    def breaks(steps):
        found = ()
        if len(steps) == 2 and long_leader_pause(steps):
            found += (SPLIT,)
        if any(s.kind == "kill" and s.hold >= 10 for s in steps):
            found += (LOST,)
        return found

    slips_refused = 0
    for seed in range(8):
        result = search(EXPLORATION, System(breaks=breaks), seed=seed, max_examples=300)
        assert result.minimal is not None
        sought = set(result.sought)
        assert all(sought & set(r.failed) for r in result.minimal.runs)
        slips_refused += sum(1 for t in result.examples if t.phase == "shrink" and t.failures and not t.failing)
        if SPLIT in sought and LOST not in sought:
            assert len(result.minimal.steps) == 2 and long_leader_pause(result.minimal.steps)
    assert slips_refused  # the guard was put to the test


def test_the_seed_decides_the_schedules_drawn():
    first, second, other = System(), System(), System()
    search(EXPLORATION, first, seed=11, max_examples=20)
    search(EXPLORATION, second, seed=11, max_examples=20)
    search(EXPLORATION, other, seed=12, max_examples=20)
    assert first.calls == second.calls != other.calls


def test_the_budget_is_kept_and_a_search_cut_short_says_so():
    now = [0.0]

    def clock():
        return now[0]

    def slow(steps):
        now[0] += 60.0  # a drill of a minute
        return System()(steps)

    result = search(EXPLORATION, slow, seed=5, max_examples=500, budget_s=300.0, clock=clock)
    assert result.runs <= 5 + 1  # the run begun before the deadline ends; none starts after it
    assert result.budget_spent


def test_with_a_cost_estimate_no_run_ends_after_the_budget():
    """Each run takes its schedule's holds plus 40 s; told so, the search starts none that would end
    after the budget, so the budget is kept, not overrun by the last drill begun."""
    now = [0.0]
    ends = []

    def cost(steps):
        return 40.0 + sum(s.hold for s in steps)

    def timed(steps):
        now[0] += cost(steps)
        ends.append(now[0])
        return System()(steps)

    result = search(EXPLORATION, timed, seed=5, max_examples=500, budget_s=300.0, cost=cost, clock=lambda: now[0])
    assert ends and max(ends) <= 300.0
    assert result.budget_spent


def test_the_example_database_replays_a_known_failure_first(tmp_path):
    database = database_at(tmp_path / "examples")
    first = search(EXPLORATION, System(), seed=6, max_examples=200, database=database)
    assert first.minimal is not None
    again = System()
    second = search(EXPLORATION, again, seed=7, max_examples=200, database=database)
    assert again.calls[0] == first.minimal.steps
    assert second.minimal is not None and second.minimal.steps == first.minimal.steps


def test_a_harness_error_stops_the_search_and_is_raised_without_shrinking_on_it():
    calls = []

    def broken(steps):
        calls.append(steps)
        if len(calls) == 3:
            raise HarnessError("the stack could not be brought back to its baseline")
        return ScheduleOutcome("passed")

    with pytest.raises(HarnessError, match="baseline"):
        search(EXPLORATION, broken, seed=8, max_examples=50)
    assert len(calls) == 3


def test_a_minimal_failure_found_first_costs_only_its_confirmation():
    """Every run is a drill: once the simplest schedule fails, nothing else is run (no explain
    phase varying its parts, no search for other failures)."""
    system = System(breaks=lambda steps: (LOST,) if any(s.kind == "kill" for s in steps) else ())
    result = search(EXPLORATION, system, seed=9, max_examples=100)
    assert result.minimal is not None and result.minimal.steps == (DrawnStep("kill", "postgres.leader", 1),)
    assert len(system.calls) == 2


def test_hypothesis_does_not_give_up_shrinking_before_the_budget_is_spent():
    """Hypothesis stops shrinking after 5 minutes of its own; a real drill takes a minute or more."""
    from hypothesis.internal.conjecture import engine

    limits = []

    def system(steps: Sequence[DrawnStep]) -> ScheduleOutcome:
        limits.append(engine.MAX_SHRINKING_SECONDS)
        return ScheduleOutcome("failed", (SPLIT,)) if long_leader_pause(steps) else ScheduleOutcome("passed")

    before = engine.MAX_SHRINKING_SECONDS
    search(EXPLORATION, system, seed=1, max_examples=50, budget_s=1200)
    assert min(limits) > 1200
    assert before == engine.MAX_SHRINKING_SECONDS


def test_a_failure_replayed_from_the_database_is_shrunk_further(tmp_path):
    """A first search cut short by its budget right after its first failure; the next one replays
    that failure first and shrinks it on (Hypothesis alone would trust it as already minimal)."""
    db = database_at(tmp_path / "db")
    system = System()
    cut = search(EXPLORATION, system, seed=6, max_examples=200, database=db, budget_s=1,
                 clock=lambda: 2.0 if any(system.breaks(c) for c in system.calls) else 0.0)
    assert cut.minimal is not None and cut.budget_spent
    assert cut.minimal.steps != (DrawnStep("pause", "postgres.leader", 5),)  # not shrunk yet
    again = search(EXPLORATION, System(), seed=6, max_examples=200, database=db)
    assert again.examples[0].steps == cut.minimal.steps  # replayed first
    assert again.minimal is not None and again.minimal.steps == (DrawnStep("pause", "postgres.leader", 5),)


def test_a_failure_kept_for_one_stack_is_replayed_first_on_that_stack_only(tmp_path):
    database = database_at(tmp_path / "examples")
    first = search(EXPLORATION, System(), seed=6, max_examples=200, database=database, stack_key="async:1")
    assert first.minimal is not None
    same, other = System(), System()
    search(EXPLORATION, same, seed=7, max_examples=200, database=database, stack_key="async:1")
    search(EXPLORATION, other, seed=7, max_examples=200, database=database, stack_key="reference:2")
    assert same.calls[0] == first.minimal.steps
    assert other.calls[0] != first.minimal.steps


def test_the_stack_key_follows_what_the_stack_files_hold(tmp_path):
    from drills.explore.runner import stack_key
    from drills.files.stack_file import load_stack

    reference = load_stack(None, ())
    override = tmp_path / "override.yaml"
    override.write_text("services:\n  pg1: {environment: {DRILLS_PATRONI_SYNCHRONOUS_MODE: 'false'}}\n")
    varied = load_stack(None, (override,))
    assert stack_key(reference) == stack_key(load_stack(None, ()))
    assert stack_key(varied) != stack_key(reference) and stack_key(varied).startswith(reference.name + ":")
    before = stack_key(varied)
    override.write_text("services:\n  pg1: {environment: {DRILLS_PATRONI_SYNCHRONOUS_MODE: 'true'}}\n")
    assert stack_key(load_stack(None, (override,))) != before


def test_an_error_run_is_not_a_pass_a_failing_schedule_is_judged_on_the_runs_that_judged():
    """fail, ERROR (the stack not back at its baseline), fail: 2 of 2 judged runs failed: accepted,
    where counting the ERROR as a held run would have made it 2 of 3 and, with a pass, 1 of 3."""
    outcomes = iter([ScheduleOutcome("failed", (SPLIT,)), ScheduleOutcome("error"),
                     ScheduleOutcome("failed", (SPLIT,))])

    def system(steps):
        return next(outcomes, ScheduleOutcome("passed")) if long_leader_pause(steps) else ScheduleOutcome("passed")

    result = search(EXPLORATION, system, seed=1, max_examples=200)
    first = next(t for t in result.examples if t.failures)
    assert [r.status for r in first.runs] == ["failed", "error", "failed"]
    assert first.failing and first.judged == 2 and not first.flaky
