"""The coverage of an exploration, without Docker: every step a schedule may draw lands in exactly one
cell of the space (kind x target x hold bucket x order), the cells tried and those never drawn make
up the space, a search that drew only some kinds shows the others never drawn, and each hold
range is cut into buckets that hold each of its seconds exactly once. Then where it is shown:
summary.json, report.md and the console of `drill explore`."""

from __future__ import annotations

import io
import itertools
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from drills.explore import coverage_view
from drills.explore.coverage import (
    ALONE,
    IN_SEQUENCE,
    OVERLAPPING,
    coverage_of,
    hold_buckets,
    order_of,
    orders_of,
    space_cells,
)
from drills.explore.output import summary, write_report
from drills.explore.runner import Exploring
from drills.explore.search import ScheduleOutcome, search
from drills.explore.strategy import DrawnStep, schedules
from drills.files.exploration import Exploration, load_exploration

ROOT = Path(__file__).resolve().parents[2]
FILE = ROOT / "explorations" / "postgres-failover.yaml"
EXPLORATION = load_exploration(FILE)


def variant(exploration: Exploration, **space: object) -> Exploration:
    """The exploration with other steps / overlap (a Model is frozen: a copy)."""
    fault_space = exploration.fault_space.model_copy(update=space)
    return exploration.model_copy(update={"fault_space": fault_space})


OVERLAPPING_SPACE = variant(EXPLORATION, overlap=True,
                            steps=EXPLORATION.fault_space.steps.model_copy(update={"max": 3}))
SPACES = [EXPLORATION, OVERLAPPING_SPACE]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_every_drawn_step_lands_in_exactly_one_cell(data):
    exploration = data.draw(st.sampled_from(SPACES))
    tried = data.draw(st.lists(schedules(exploration), max_size=6))
    cells = space_cells(exploration)
    for schedule in tried:
        for i, step in enumerate(schedule):
            assert sum(cell.holds(step, order_of(schedule, i)) for cell in cells) == 1
    coverage = coverage_of(exploration, tried)
    assert coverage.outside == 0 and coverage.schedules == len(tried)
    assert sum(c.steps for c in coverage.cells) == sum(map(len, tried))
    assert all(c.schedules <= c.steps for c in coverage.cells)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_the_cells_tried_and_those_never_drawn_are_the_whole_space(data):
    exploration = data.draw(st.sampled_from(SPACES))
    coverage = coverage_of(exploration, data.draw(st.lists(schedules(exploration), max_size=6)))
    tried = [c.cell for c in coverage.tried]
    assert sorted(map(repr, tried + list(coverage.never_drawn))) == sorted(map(repr, space_cells(exploration)))
    assert not set(tried) & set(coverage.never_drawn)
    assert len(coverage.tried) + len(coverage.never_drawn) == len(coverage.cells)
    written = coverage.as_data()
    assert written["cells_tried"]["tried"] + len(written["never_drawn"]) == written["cells_tried"]["of"]
    assert coverage.steps_tried <= coverage.steps_in_space


def test_the_space_of_the_example_has_27_kind_target_hold_cells_and_450_single_steps():
    coverage = coverage_of(EXPLORATION, [])
    assert coverage.holds_tried() == (0, 27)  # 3 kinds x 3 targets x 3 hold buckets
    assert orders_of(EXPLORATION) == (ALONE, IN_SEQUENCE) and len(coverage.cells) == 54
    assert orders_of(OVERLAPPING_SPACE) == (ALONE, IN_SEQUENCE, OVERLAPPING)
    assert (coverage.steps_in_space, coverage.refused_counted) == (450, True)  # what `drill explore` prints
    assert [c.cell.hold.label for c in coverage.cells[:6:2]] == ["1-4 s", "5-9 s", "10-15 s"]


leader_pauses = st.lists(st.lists(st.builds(DrawnStep, st.just("pause"), st.just("postgres.leader"),
                                            st.integers(1, 15)), min_size=1, max_size=2), min_size=1, max_size=8)


@settings(max_examples=40, deadline=None)
@given(leader_pauses)
def test_a_search_that_drew_only_leader_pauses_shows_kills_and_partitions_never_drawn(tried):
    coverage = coverage_of(EXPLORATION, tried)
    assert {c.cell.kind for c in coverage.tried} == {"pause"}
    assert {c.cell.target for c in coverage.tried} == {"postgres.leader"}
    never = {(c.kind, c.target) for c in coverage.never_drawn}
    assert {(kind, target) for kind in ("kill", "partition")
            for target in ("postgres.leader", "postgres.replica", "postgres.*")} <= never
    said = coverage_view.never_drawn(coverage)[0]
    assert "kill (every target and hold)" in said and "partition (every target and hold)" in said
    assert "pause postgres.replica (every hold)" in said and "pause postgres.* (every hold)" in said
    distinct = {(s.kind, s.target, s.hold) for schedule in tried for s in schedule}
    assert coverage.steps_tried == len(distinct)


@given(st.integers(0, 5000), st.integers(0, 5000), st.integers(1, 6), st.data())
def test_buckets_hold_each_second_of_the_range_exactly_once(low, span, most, data):
    high = low + span
    buckets = hold_buckets(low, high, most)
    assert len(buckets) == min(most, span + 1)
    assert buckets[0].low == low and buckets[-1].high == high
    assert all(b.low <= b.high for b in buckets)
    assert all(a.high + 1 == b.low for a, b in itertools.pairwise(buckets))  # contiguous, no overlap
    for hold in {low, high, data.draw(st.integers(low, high))}:
        assert sum(hold in b for b in buckets) == 1
    assert not any(hold in b for b in buckets for hold in (low - 1, high + 1))


def test_buckets_read_as_round_seconds():
    assert [b.label for b in hold_buckets(1, 15)] == ["1-4 s", "5-9 s", "10-15 s"]
    assert [b.label for b in hold_buckets(5, 60)] == ["5-19 s", "20-39 s", "40-60 s"]
    assert [b.label for b in hold_buckets(7, 7)] == ["7 s"]


def test_a_step_runs_alone_in_sequence_or_overlapping():
    a, b, c = DrawnStep("kill", "postgres.leader", 2), DrawnStep("pause", "postgres.leader", 3), \
        DrawnStep("kill", "postgres.replica", 4)
    assert order_of([a], 0) == ALONE
    assert [order_of([a, b], i) for i in range(2)] == [IN_SEQUENCE, IN_SEQUENCE]
    through = DrawnStep("kill", "postgres.leader", 2, overlaps_next=True)
    assert [order_of([through, b, c], i) for i in range(3)] == [OVERLAPPING, OVERLAPPING, IN_SEQUENCE]


def test_a_schedule_kept_from_another_version_of_the_file_is_counted_outside():
    elsewhere = [(DrawnStep("kill", "etcd.*", 3),), (DrawnStep("kill", "postgres.leader", 99),)]
    coverage = coverage_of(EXPLORATION, elsewhere)
    assert coverage.outside == 2 and not coverage.tried
    assert "2 step(s) outside this space" in coverage_view.figures(coverage)


def test_the_summary_the_report_and_the_console_show_what_was_covered(tmp_path):
    exploring = Exploring(EXPLORATION, FILE, tmp_path, seed=4, budget_s=600, max_examples=12)
    exploring.result = search(EXPLORATION, lambda steps: ScheduleOutcome("passed"), seed=4, max_examples=12)
    data = summary(exploring, code=0, minimal=None)
    written = json.loads(json.dumps(data, default=str))["coverage"]
    assert written["schedules"] == len(exploring.result.examples) == 12
    assert sum(c["steps"] for c in written["cells"]) == sum(len(t.steps) for t in exploring.result.examples)
    assert written["kind_target_hold"]["of"] == 27 and written["single_steps"]["of"] == 450
    page = write_report(exploring, data).read_text()
    assert "## Coverage" in page and "kind x target x hold cells tried" in page
    assert page.count("| kill | postgres.leader |") == 3
    covered = coverage_of(EXPLORATION, [t.steps for t in exploring.result.examples])
    console = Console(width=120, file=io.StringIO())
    console.print(coverage_view.console_table(covered))
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert "partition postgres.*" in shown and "10-15 s" in shown and "alone / seq" in shown
    assert coverage_view.figures(covered).startswith("coverage of 12 schedule(s)")


def test_schedules_that_only_ended_in_an_error_covered_nothing(tmp_path):
    exploring = Exploring(EXPLORATION, FILE, tmp_path, seed=4, budget_s=600, max_examples=3)
    exploring.result = search(EXPLORATION, lambda steps: ScheduleOutcome("error"), seed=4, max_examples=3)
    written = summary(exploring, code=3, minimal=None)["coverage"]
    assert written["schedules"] == 0 and written["cells_tried"]["tried"] == 0


def test_drill_explore_ends_with_the_coverage_on_the_console(tmp_path, capsys):
    from drills.cli.explore import _report

    exploring = Exploring(EXPLORATION, FILE, tmp_path, seed=4, budget_s=600, max_examples=3)
    exploring.result = search(EXPLORATION, lambda steps: ScheduleOutcome("passed"), seed=4, max_examples=3)
    _report(exploring, 0)
    err = capsys.readouterr().err
    assert "steps drawn" in err and "kill postgres.leader" in err and "10-15 s" in err
    assert "coverage of 3 schedule(s):" in err and "of 27 kind x target x hold cells tried" in err
    assert "never drawn: " in err and "no invariant failed in any example" in err
