"""The real `drill explore`, as a user runs it, with a tiny budget: one stack brought up, two
schedules of a one-step space each run as a drill from the stack's baseline, every example listed
with its verdicts in the summary and the report, and nothing left running afterwards."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from drills.files.scenario import load_scenario
from tests.integration.drive import drill_to_end
from tests.integration.test_run_repeat import project_containers

pytestmark = [pytest.mark.docker, pytest.mark.slow]

# The shortest space that still is a space: a replica killed for 2 or 3 s under writes. Synchronous
# replication promotes no node that lacks an acknowledged write, and a killed replica is no leader.
EXPLORATION = """\
id: explore-smoke
title: a PostgreSQL replica killed for a few seconds under writes
workload:
  postgres.write: {rate: 20}
steady: 2s
fault_space:
  faults:
    - kind: kill
      targets: [postgres.replica]
  hold: {min: 2s, max: 3s}
  steps: {min: 1, max: 1}
recovery: {timeout: 90s, conditions: [postgres]}
after: 2s
invariants:
  - checker: lost-writes
    signal: postgres.write
    max_lost: 0
    why: a killed replica takes no acknowledged write with it
"""


def test_explore_runs_two_examples_on_one_stack_and_reports_each(docker_client, tmp_path):
    exploration = tmp_path / "explore-smoke.yaml"
    exploration.write_text(EXPLORATION)
    reports = tmp_path / "reports"
    project, rc, log = drill_to_end("explore", str(exploration), "--budget", "8m", "--max-examples", "2", "--seed",
                                    "11", "--reports", str(reports), timeout_s=1200)
    assert rc == 0, log[-4000:]
    assert "[generate 2] kill postgres.replica" in log and "time left" in log, log[-4000:]
    assert project_containers(docker_client, project) == []  # the stack is down

    [folder] = reports.glob("explore-*-explore-smoke-*")
    summary = json.loads((folder / "summary.json").read_text())
    assert (summary["seed"], summary["exit_code"], summary["project"]) == (11, 0, project)
    examples = summary["examples"]
    assert len(examples) == 2 and len({json.dumps(e["schedule"]) for e in examples}) == 2
    for example in examples:
        [run] = example["runs"]
        assert run["status"] == "passed", example
        assert [(v["checker"], v["subject"], v["status"]) for v in run["verdicts"]] == [
            ("lost-writes", "postgres.write", "pass")]
        journal = json.loads((folder / run["run_id"] / "journal.json").read_text())
        assert journal["status"] == "passed" and journal["faults"][0]["kind"] == "kill"
    assert summary["minimal"] is None and not list(folder.glob("minimal-*.yaml"))
    for scenario in (folder / "scenarios").glob("*.yaml"):  # each example is an ordinary scenario
        assert load_scenario(scenario).steps[0].target == "postgres.replica"
    page = (folder / "report.md").read_text()
    assert page.count("lost-writes postgres.write PASS") == 2 and "No invariant failed in any run." in page


def test_explore_of_a_role_the_stack_lacks_is_not_run_before_anything_starts(docker_client, tmp_path):
    """A fault space over RabbitMQ on a stack without it: NOT RUN with why, exit 3, no container
    started, and the report says so (it never reads as "no invariant failed")."""
    exploration = tmp_path / "rabbit-on-postgres-only.yaml"
    exploration.write_text(EXPLORATION.replace("id: explore-smoke", "id: rabbit-space")
                           .replace("targets: [postgres.replica]", "targets: [rabbitmq.*]"))
    reports = tmp_path / "reports"
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "drills", "explore", str(exploration), "--stack",
                           "stacks/examples/postgres-only", "--budget", "2m", "--seed", "1", "--reports", str(reports)],
                          cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 3, done.stderr[-3000:]
    assert "NOT RUN: stack postgres-only" in done.stderr and "no rabbitmq role" in done.stderr, done.stderr[-3000:]
    assert "starting stack" not in done.stderr
    [folder] = reports.glob("explore-*-rabbit-space-*")
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["exit_code"] == 3 and "no rabbitmq role" in summary["not_run"] and summary["examples"] == []
    assert "**NOT RUN:**" in (folder / "report.md").read_text()
