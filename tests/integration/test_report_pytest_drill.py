"""`pytest scenarios/x.yaml` for real: the plugin runs a whole drill on containers (minutes).

The unit tests (tests/unit/test_report_pytest_plugin.py) cover collection and messages with a fake
executor; this one checks the real path end to end: a stack comes up, the drill runs, the item
passes or fails on its verdicts (never errors), JUnit carries the measurements, and the run is
sealed into a verifiable evidence chain that `drill report` can render.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from drills.records.evidence import verify
from drills.report.render import render
from drills.report.runs import load_runs

pytestmark = [pytest.mark.docker, pytest.mark.slow]
pytest_plugins = ("pytester",)

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "postgres-leader-kill.yaml"


def test_pytest_runs_a_real_scenario(docker_client, pytester: pytest.Pytester, tmp_path):
    reports = tmp_path / "reports"
    junit = tmp_path / "junit.xml"
    result = pytester.runpytest_subprocess(str(SCENARIO), f"--drill-reports={reports}", f"--junitxml={junit}",
                                           "-p", "no:cacheprovider", "-rA", timeout=1500)
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) + outcomes.get("failed", 0) == 1, result.stdout.str()
    assert "ERROR" not in result.stdout.str().split("short test summary")[-1]
    props = {p.get("name"): p.get("value") for p in ET.parse(junit).getroot().iter("property")}
    assert props["drill.status"] in ("passed", "failed")
    assert "rto_s.postgres.write" in props and "lost_writes.postgres.write" in props
    assert verify(reports).intact
    html = render(load_runs([reports]), tmp_path / "out", ["html"])[0].read_text()
    assert "postgres-leader-kill" in html and 'class="fault-window"' in html
