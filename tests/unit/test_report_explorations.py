"""`drill report` says what the explorations beside the runs found: a failing schedule is a finding
with its replayable scenario attached, "no failure found" comes with what was covered, and an
exploration that left no summary is said to have left none (never "nothing found").

The exploration folders are written by the real search and writers (`drills.explore.output`) over
synthetic drills, the run folder by the report tests' factory; the report is made by the command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from drills.cli import main as cli
from drills.explore.output import exit_code, summary, write_minimal, write_summary
from drills.explore.runner import Exploring
from drills.explore.search import search
from drills.files.scenario import load_scenario
from drills.report.explorations import FOUND, NO_SUMMARY, NOTHING_FOUND, find_exploration_dirs, load_exploration
from tests.report_factory import make_run
from tests.unit.test_explore_output import EXPLORATION, FILE, Stand, long_kill


def explore_into(folder: Path, n: int, **kw) -> Exploring:
    """What `drill explore` leaves in its folder: the drills' records, the minimal scenario, summary.json."""
    exploring = Exploring(EXPLORATION, FILE, folder, seed=5, budget_s=600, max_examples=n)
    folder.mkdir(parents=True)
    exploring.result = search(EXPLORATION, Stand(exploring, **kw), seed=5, max_examples=n)
    write_summary(exploring, summary(exploring, code=exit_code(exploring), minimal=write_minimal(exploring)))
    return exploring


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("reports")
    make_run(root)  # the suite's run
    explore_into(root / "explore-20261206T010000-postgres-failover-aaaaaa", 30, breaks=long_kill)
    explore_into(root / "explore-20261206T020000-postgres-failover-bbbbbb", 3)
    (root / "explore-20261206T030000-postgres-failover-cccccc").mkdir()  # killed before it wrote anything
    return root


@pytest.fixture(scope="module")
def rendered(reports, tmp_path_factory) -> tuple[str, str]:
    out = tmp_path_factory.mktemp("out")
    result = CliRunner().invoke(cli.cli, ["report", str(reports), "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return (out / "drill-report.html").read_text(), (out / "drill-report.md").read_text()


def test_a_finding_is_reported_with_its_schedule_rate_and_a_scenario_that_replays(rendered, tmp_path):
    html, md = rendered
    section = md[md.index("## Exploration: fault schedules searched"):]
    assert f"**{FOUND}**: lost-writes postgres.write broken" in section
    schedule = re.search(r"\*\*Schedule:\*\* `([^`]+)`, failed in (\d+) of (\d+) run\(s\)", section)
    assert schedule is not None
    assert re.fullmatch(r"kill \S+ 4s", schedule[1]) and schedule[2] == schedule[3]
    attached = re.search(r"```yaml\n(.*?)\n```", section, re.DOTALL)
    assert attached is not None
    replay = tmp_path / "replay.yaml"
    replay.write_text(attached[1] + "\n")
    scenario = load_scenario(replay)  # what `drill run` reads: the attachment is the scenario, whole
    assert [(s.fault, s.hold) for s in scenario.steps] == [("kill", 4.0)]
    assert "<h2>Exploration: fault schedules searched</h2>" in html and "Replayable scenario" in html
    assert html.count(f">{FOUND}<") == 1


def test_nothing_found_comes_with_what_was_covered_and_a_missing_summary_is_never_nothing_found(rendered):
    _, md = rendered
    rows = {m[1]: m[2] for m in re.finditer(r"^\| postgres-failover \(`[^`]*-(\w{6})`\) \| \*\*([A-Z ]+)\*\*", md,
                                            re.MULTILINE)}
    assert rows == {"aaaaaa": FOUND, "bbbbbb": NOTHING_FOUND, "cccccc": NO_SUMMARY}
    nothing = next(line for line in md.splitlines() if "bbbbbb" in line)
    covered = re.search(r"(\d+) of (\d+) single steps", nothing)
    assert covered is not None and 0 < int(covered[1]) <= int(covered[2])
    assert "no invariant failed in 3 schedule(s)" in nothing
    assert re.search(r"pacing held in \d+ of 3 drill\(s\)", nothing)  # the synthetic drills kept their rate


def test_the_explorations_drills_are_not_counted_among_the_suites_runs(rendered):
    _, md = rendered
    sequence = md[md.index("## Run sequence"):md.index("## Exploration")]
    assert len(re.findall(r"^\| \d+ \| `", sequence, re.MULTILINE)) == 1


def test_an_exploration_folder_named_alone_is_found_and_a_non_exploration_folder_is_not(reports):
    finding = reports / "explore-20261206T010000-postgres-failover-aaaaaa"
    assert find_exploration_dirs([finding]) == [finding]
    assert find_exploration_dirs([reports / "nope"]) == []
    view = load_exploration(finding)
    assert view.is_finding and view.minimal_text.startswith("#") and view.examples >= 1
