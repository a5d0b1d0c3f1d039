"""The real `drill run` of overlapping steps (`overlaps_next`): the first dashboard killed, and
while it is still down the second paused; both heal at the end of the second hold, the later
first. With both instances down the balancer has nothing to send visitors to: the overlap is real,
and the journal's times say so."""

from __future__ import annotations

import json

import pytest

from drills.core.history import load
from drills.faults import ledger
from tests.integration.drive import drill_to_end
from tests.integration.test_run_repeat import project_containers

pytestmark = [pytest.mark.docker, pytest.mark.slow]

SCENARIO = """\
id: overlap-dashboards
title: one dashboard killed, and the other paused while it is still down
component: app
policy: Dashboards are load balanced over two instances.
workload:
  http.dashboard: {rate: 20}
steady: 2s
steps:
  - fault: kill
    target: dashboard[0]
    hold: 3s
    overlaps_next: true
  - fault: pause
    target: dashboard[1]
    hold: 4s
recovery:
  timeout: 60s
  conditions: [containers]
after: 2s
expectations:
  - checker: availability
    signal: http.dashboard
    max_rto: 60s
    why: With both instances down nothing serves; the bound only asks that they come back.
"""


def test_an_overlapping_step_stays_applied_through_the_next_and_heals_after_it(docker_client, tmp_path):
    scenario = tmp_path / "overlap.yaml"
    scenario.write_text(SCENARIO)
    project, rc, log = drill_to_end("run", "--reports", str(tmp_path / "reports"), str(scenario))
    [journal_file] = (tmp_path / "reports").glob("*/journal.json")
    journal = json.loads(journal_file.read_text())
    assert journal["status"] in ("passed", "failed"), log[-3000:]
    kill, pause = journal["faults"]
    assert (kill["kind"], pause["kind"]) == ("kill", "pause")
    assert kill["injected_s"] < pause["injected_s"] < pause["healed_s"] <= kill["healed_s"], journal["faults"]
    assert pause["healed_s"] - pause["injected_s"] >= 4.0
    phases = [(p["name"], p.get("detail", "")) for p in journal["phases"]]
    heals = [detail for name, detail in phases if name == "heal"]
    assert heals[0].startswith("pause dashboard[1]") and heals[1].startswith("kill dashboard[0]"), phases
    # Both instances down at once: requests failed in the overlap, and only there or near it.
    ops, _ = load(journal_file.parent / "history.jsonl")
    failed = [op for op in ops if op.signal == "http.dashboard" and not op.ok]
    assert any(pause["injected_s"] <= op.start <= pause["healed_s"] for op in failed), "no request failed: no overlap"
    assert rc in (0, 1)
    assert ledger.pending(project) == []
    assert project_containers(docker_client, project) == []
