"""A restart does not pass for a failover, driven as a user would: `drill run` of the policy's
leader-kill drill on the reference stack with an override under which no replica may be promoted
(`stacks/examples/no-failover`: Patroni's nofailover tag on pg2 and pg3). The killed leader is
respawned after the 15 s hold and takes its own key back; the drill must FAIL, and its failover
expectation must say why (no other node took over, the node hit led again), whatever the outage
measured against the availability bound. Then `drill report`: the component is NOT READY."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.drive import drill_to_end

pytestmark = [pytest.mark.docker, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def test_a_leader_that_comes_back_itself_fails_the_failover_expectation(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    _, rc, log = drill_to_end("run", "scenarios/postgres-leader-kill.yaml", "-f",
                              "stacks/examples/no-failover/override.yaml", "--reports", str(reports))
    assert rc == 1, log[-3000:]
    [journal_path] = reports.glob("*/journal.json")
    journal = json.loads(journal_path.read_text())
    assert journal["status"] == "failed"
    [failover] = [v for v in journal["verdicts"] if v["checker"] == "failover"]
    assert failover["status"] == "fail", failover
    assert failover["measured"]["took_over"] is None
    assert failover["measured"]["hit"] == ["pg1"]  # the only member allowed to lead
    assert "no other node took over" in failover["observed"]

    done = subprocess.run([sys.executable, "-m", "drills", "report", str(reports), "--format", "md", "--out",
                           str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    md = (tmp_path / "out" / "drill-report.md").read_text()
    assert "no other node took over" in md
    readiness = next(line for line in md.splitlines() if line.startswith("| postgres |"))
    assert "**NOT READY**" in readiness, readiness
