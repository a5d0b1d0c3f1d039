"""The field notes' trap, driven as a user would: the reference stack with an override that sets
PostgreSQL's `synchronous_commit: local` (Patroni's synchronous_mode still reads true, yet a commit
is acknowledged before the standby has it). One short drill (`drill run -f OVERRIDE`), then `drill
report --format md`: the broken assumption is printed beside the expectation that relies on it (and
only there), in the journal, the run's summary and the report, and postgres is not READY although
the drill met its bounds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.drive import drill_to_end

pytestmark = [pytest.mark.docker, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
COMMIT = "postgres.synchronous_commit in [on, remote_write, remote_apply]"
BROKEN = f"this bound assumes {COMMIT}; the stack runs local"

OVERRIDE = "services:\n" + "".join(
    f"  pg{i}: {{environment: {{DRILLS_POSTGRES_SYNCHRONOUS_COMMIT: local}}}}\n" for i in (1, 2, 3))

# Short, and its bounds met whatever synchronous_commit is: a replica frozen for 2 s, the leader
# never changes hands. The lost-writes bound still relies on synchronous commits (it is the
# policy's promise for a failover too); the availability bound relies on nothing of the stack.
SCENARIO = """\
id: replica-pause-short
title: a PostgreSQL replica frozen for 2 s under writes
component: postgres
policy: >
  In case of a database being unreachable, the system will continue working using a replica. No
  service degradation is expected.
workload:
  postgres.write: {rate: 20}
steady: 2s
steps:
  - fault: pause
    target: postgres.replica[0]
    hold: 2s
recovery:
  timeout: 90s
  conditions: [postgres]
after: 2s
expectations:
  - checker: lost-writes
    signal: postgres.write
    max_lost: 0
    assumes:
      - postgres.patroni.synchronous_mode == true
      - postgres.synchronous_commit in [on, remote_write, remote_apply]
    why: >
      In synchronous mode a commit is acknowledged only once the synchronous standby has it, so no
      acknowledged write can be lost to a failover.
  - checker: availability
    signal: postgres.write
    max_outage: 30s
    why: >
      A frozen synchronous standby stalls commits until Patroni replaces it (ttl 10 s + loop_wait 2 s)
      when commits wait for it; 30 s with margin.
"""


def test_a_broken_assumption_is_shown_beside_its_expectation_and_postgres_is_not_ready(tmp_path: Path) -> None:
    override, scenario, reports = tmp_path / "local-commit.yaml", tmp_path / "replica-pause-short.yaml", \
        tmp_path / "reports"
    override.write_text(OVERRIDE)
    scenario.write_text(SCENARIO)
    _, rc, log = drill_to_end("run", "-f", str(override), "--reports", str(reports), "--summary",
                              str(tmp_path / "summary.json"), str(scenario))
    assert rc in (0, 1), log[-3000:]

    # The journal: the configuration read back says local, and the verdicts carry the check.
    [journal_path] = reports.glob("*/journal.json")
    journal = json.loads(journal_path.read_text())
    postgres = journal["environment"]["effective"]["parts"]["postgres"]["settings"]
    assert postgres["pg_settings"]["synchronous_commit"] == "local"
    assert postgres["patroni"]["synchronous_mode"] is True
    lost = next(v for v in journal["verdicts"] if v["checker"] == "lost-writes")
    assert lost["assumptions"] == [
        {"assumes": "postgres.patroni.synchronous_mode == true", "status": "held", "actual": True},
        {"assumes": COMMIT, "status": "broken", "actual": "local"}]
    availability = next(v for v in journal["verdicts"] if v["checker"] == "availability")
    assert "assumptions" not in availability

    # The run's JSON summary.
    [run] = json.loads((tmp_path / "summary.json").read_text())["runs"]
    assert run["assumptions"] == [{"expectation": "lost-writes postgres.write", "assumes": COMMIT,
                                   "status": "broken", "actual": "local"}]

    # The report: beside the expectation, and postgres not READY.
    done = subprocess.run([sys.executable, "-m", "drills", "report", str(reports), "--format", "md", "--out",
                           str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    md = (tmp_path / "out" / "drill-report.md").read_text()
    row = next(line for line in md.splitlines() if line.startswith("| lost-writes | postgres.write |"))
    assert f"**BROKEN:** {BROKEN}" in row, row
    other = next(line for line in md.splitlines() if line.startswith("| availability | postgres.write |"))
    assert "BROKEN" not in other, other
    readiness = next(line for line in md.splitlines() if line.startswith("| postgres |"))
    assert "**READY**" not in readiness and "**NOT READY**" in readiness, readiness
    if journal["status"] == "passed":  # the drill met its bounds: the assumption alone decides
        assert readiness.startswith("| postgres | **NOT READY**: assumption broken |"), readiness
