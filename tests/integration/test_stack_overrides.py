"""A Compose override changes the stack a drill runs on, through the `drill` command as a user
would: `drill run SCENARIO --stack stacks/reference -f stacks/examples/more-instances/override.yaml`.

The override adds dashboard3 (labelled `io.drills.role: dashboard,clients`) and worker3, and puts
dashboard3 in the balancer's rotation. The reference stack file is not touched: the roles come
from the labels. The run's journal must show the stack it drilled: the override among its Compose
files, three dashboards in the balancer's rotation and in the dashboard role, three workers; and
the scenario must pass (the policy allows scaling out).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(900)]
ROOT = Path(__file__).resolve().parents[2]
OVERRIDE = ROOT / "stacks" / "examples" / "more-instances" / "override.yaml"


def test_an_override_adds_instances_that_the_drill_sees_and_drives(tmp_path):
    reports = tmp_path / "reports"
    done = subprocess.run(
        [sys.executable, "-m", "drills", "run", "scenarios/dashboard-instance-lost.yaml", "--stack", "stacks/reference",
         "-f", str(OVERRIDE), "--reports", str(reports), "--summary", str(tmp_path / "summary.json")],
        cwd=ROOT, capture_output=True, text=True, timeout=840, env=os.environ.copy())
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    [path] = reports.glob("*dashboard-instance-lost*/journal.json")
    journal = json.loads(path.read_text())
    assert journal["status"] == "passed"
    assert {v["checker"] for v in journal["verdicts"]} == {"availability", "sessions", "steady-state"}
    assert all(v["status"] == "pass" for v in journal["verdicts"])

    effective = journal["environment"]["effective"]
    assert effective["stack"]["compose_files"][-1] == str(OVERRIDE)
    balancer = effective["parts"]["balancer"]
    assert balancer["status"] == "read"
    assert balancer["settings"]["servers"] == ["dashboard1", "dashboard2", "dashboard3"]
    assert set(balancer["state"]["backends"]) == {"dashboard1", "dashboard2", "dashboard3"}
    instances = effective["parts"]["instances"]
    assert instances["settings"]["defined"]["dashboard"] == 3 and instances["settings"]["defined"]["worker"] == 3
    assert instances["state"]["running"]["dashboard"] == 3

    # The fault hit the first dashboard of the role; the sessions checker knew which instances held
    # sessions, and the survivors (dashboard3 among them) kept theirs.
    assert [t for f in journal["faults"] for t in f["resolved"]] == ["dashboard1"]
    [sessions] = [v for v in journal["verdicts"] if v["checker"] == "sessions"]
    assert sessions["measured"]["lost_on_surviving_instances"] == 0
