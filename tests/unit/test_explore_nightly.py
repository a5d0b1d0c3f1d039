"""`drill explore`'s nightly mode, without Docker (the search runs against a stand-in for the stack):
`--database DIR` keeps the example databases where a CI job caches them, a failing schedule kept
there is replayed first by the next night's search and the output says so, and a folder runs each
exploration in turn, sharing the budget."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner

from drills.cli.explore import explore, overall_code
from drills.cli.main import cli, main
from drills.explore.database import database_root, kept_failures
from drills.explore.runner import Exploring, stack_key
from drills.explore.search import ScheduleOutcome, database_at, search
from drills.explore.strategy import DrawnStep
from drills.files.exploration import load_exploration
from drills.stack.definition import StackDefinition

ROOT = Path(__file__).resolve().parents[2]
FILE = ROOT / "explorations" / "postgres-failover.yaml"
LOST = "lost-writes postgres.write"


def loses_writes(steps: Sequence[DrawnStep]) -> bool:
    return any(s.kind == "pause" and s.hold >= 5 for s in steps)


class Stand:
    """`drills.explore.runner.explore` without a stack: the search against a function of the
    schedule, on the database the runner would use; every exploration and schedule it ran recorded."""

    def __init__(self, breaks=loses_writes) -> None:
        self.breaks = breaks
        self.budgets: list[tuple[str, float]] = []
        self.calls: list[tuple[DrawnStep, ...]] = []

    def __call__(self, exploring: Exploring, definition: StackDefinition, *, say) -> None:
        self.budgets.append((exploring.exploration.id, exploring.budget_s))

        def run(steps: Sequence[DrawnStep]) -> ScheduleOutcome:
            self.calls.append(tuple(steps))
            return ScheduleOutcome("failed", (LOST,)) if self.breaks(steps) else ScheduleOutcome("passed")

        database = database_at(database_root(exploring.database) / exploring.exploration.id)
        exploring.result = search(exploring.exploration, run, seed=exploring.seed, max_examples=exploring.max_examples,
                                  budget_s=exploring.budget_s, database=database, stack_key=stack_key(definition))
        exploring.search_s = 10.0


@pytest.fixture
def stand(monkeypatch: pytest.MonkeyPatch) -> Stand:
    stand = Stand()
    monkeypatch.setattr("drills.explore.runner.explore", stand)
    return stand


def invoke(*args: str):
    return CliRunner().invoke(cli, ["explore", *args])


def test_a_failure_kept_in_the_given_database_is_replayed_first_next_night_and_said_so(tmp_path, stand):
    database = tmp_path / "cache"
    first = invoke(str(FILE), "--database", str(database), "--reports", str(tmp_path / "r1"), "--seed", "6",
                   "--max-examples", "60")
    assert first.exit_code == 1, first.output
    assert f"example database {database / 'postgres-failover'}: no failing schedule kept for this stack yet" \
        in first.output
    assert (database / "postgres-failover").is_dir()

    stand.calls.clear()
    second = invoke(str(FILE), "--database", str(database), "--reports", str(tmp_path / "r2"), "--seed", "7",
                    "--max-examples", "60")
    assert second.exit_code == 1, second.output
    assert "failing schedule(s) kept from earlier searches on this stack, replayed first" in second.output
    assert loses_writes(stand.calls[0])  # the kept failure, before anything drawn
    summary = json.loads(next((tmp_path / "r2").glob("explore-*/summary.json")).read_text())
    assert summary["database"] == str(database) and summary["kept_failures_replayed_first"] >= 1


def test_the_database_folder_is_what_a_ci_cache_restores(tmp_path, stand):
    """Copied elsewhere (a cache restored on another runner), it still replays its failures first."""
    invoke(str(FILE), "--database", str(tmp_path / "night1"), "--reports", str(tmp_path / "r"), "--seed", "6",
           "--max-examples", "60")
    shutil.copytree(tmp_path / "night1", tmp_path / "night2")
    stand.calls.clear()
    again = invoke(str(FILE), "--database", str(tmp_path / "night2"), "--reports", str(tmp_path / "r"), "--seed", "8",
                   "--max-examples", "60")
    assert "replayed first" in again.output and loses_writes(stand.calls[0])


def test_a_folder_runs_each_exploration_in_turn_sharing_the_budget(tmp_path, monkeypatch):
    stand = Stand(breaks=lambda steps: False)
    monkeypatch.setattr("drills.explore.runner.explore", stand)
    result = invoke(str(ROOT / "explorations"), "--budget", "400s", "--max-examples", "2",
                    "--database", str(tmp_path / "db"), "--reports", str(tmp_path / "r"), "--seed", "3")
    assert result.exit_code == 0, result.output
    ids = sorted(p.stem for p in (ROOT / "explorations").glob("*.yaml"))
    assert [i for i, _ in stand.budgets] == ids
    # What each leaves unspent (its search took 10 s here) goes to those after it.
    left, expected = 400.0, []
    for n in range(len(ids)):
        expected.append(left / (len(ids) - n))
        left -= 10.0
    assert [b for _, b in stand.budgets] == pytest.approx(expected)
    assert f"== 1 of {len(ids)}: " in result.output
    assert len(list((tmp_path / "r").glob("explore-*/summary.json"))) == len(ids)


def test_a_folder_without_explorations_is_refused_before_anything_starts(tmp_path, stand):
    (tmp_path / "only-a-scenario.yaml").write_text((ROOT / "scenarios" / "postgres-leader-kill.yaml").read_text())
    with pytest.raises(SystemExit) as caught:
        main(["explore", str(tmp_path)])
    assert caught.value.code == 2 and stand.budgets == []


def test_an_invalid_exploration_in_a_folder_stops_it_before_the_first_starts(tmp_path, stand):
    shutil.copy(FILE, tmp_path / "a.yaml")
    (tmp_path / "b.yaml").write_text(FILE.read_text().replace("kind: kill", "kind: kil"))
    with pytest.raises(SystemExit) as caught:
        main(["explore", str(tmp_path)])
    assert caught.value.code == 2 and stand.budgets == []


@pytest.mark.parametrize(("codes", "code"), [([0, 0], 0), ([0, 3], 3), ([3, 1, 0], 1), ([1], 1), ([], 0)])
def test_a_folder_exits_1_on_any_failure_found_else_3_on_anything_unjudged(codes, code):
    assert overall_code(codes) == code


def test_kept_failures_counts_what_the_search_keeps_for_that_exploration_and_stack_only(tmp_path):
    exploration = load_exploration(FILE)
    database = database_at(tmp_path / exploration.id)
    result = search(exploration, lambda steps: ScheduleOutcome("failed", (LOST,)) if loses_writes(steps)
                    else ScheduleOutcome("passed"), seed=6, max_examples=60, database=database, stack_key="ref:1")
    assert result.minimal is not None
    assert kept_failures(tmp_path, exploration.id, "ref:1") >= 1
    assert kept_failures(tmp_path, exploration.id, "async:2") == 0
    assert kept_failures(tmp_path, "rabbitmq-cluster", "ref:1") == 0


def test_the_help_names_the_nightly_options():
    text = CliRunner().invoke(explore, ["--help"]).output
    assert "--database" in text and "--budget" in text and "FILE may be a" in text


def test_the_nightly_workflow_explores_every_exploration_caching_its_database_and_uploading_its_folders():
    import re

    from ruamel.yaml import YAML

    steps = YAML(typ="safe").load((ROOT / ".github" / "workflows" / "nightly-drills.yml").read_text())[
        "jobs"]["drills"]["steps"]
    run = next(s["run"] for s in steps if "drill explore" in str(s.get("run", "")))
    command = re.search(r"drill explore (\S+) --budget \S+\s*\\?\s*--database (\S+) --reports (\S+)", run)
    assert command, run
    folder, database, reports = command.groups()
    assert folder == "explorations/"
    cached = {s["uses"].split("@")[0]: s for s in steps if str(s.get("uses", "")).startswith("actions/cache")}
    assert set(cached) == {"actions/cache/restore", "actions/cache/save"}
    assert all(s["with"]["path"] == database and s["if"] == "always()" for s in cached.values())
    uploads = [s["with"]["path"] for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact")]
    assert reports.rstrip("/") + "/" in uploads
    # The DR-readiness report is rendered after the exploration, from its folder too: tonight's finding is in it.
    names = [str(s.get("run", "")) for s in steps]
    explore_at = next(i for i, r in enumerate(names) if "drill explore" in r)
    report_at = next(i for i, r in enumerate(names) if "drill report" in r)
    assert report_at > explore_at and reports.rstrip("/") in names[report_at].split()
