"""DR readiness by component follows every run reported, not only each scenario's latest: a
scenario that passed and failed across repeated runs is FLAKY, and its component NOT READY."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from drills.report.readiness import components
from drills.report.render import REPORT_NAME
from drills.report.runs import Run
from tests.report_factory import make_not_run, make_run

STATUSES = ("passed", "failed", "error", "aborted", "not-run")


def report_md(reports: Path, out: Path) -> str:
    done = subprocess.run([sys.executable, "-m", "drills", "report", str(reports), "--format", "md", "--out",
                           str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return (out / f"{REPORT_NAME}.md").read_text()


def test_a_scenario_that_passed_and_failed_is_flaky_and_its_component_not_ready(tmp_path):
    reports = tmp_path / "reports"
    make_run(reports)  # passed
    make_run(reports, outage=(5.3, 27.0), lost=3, after=15.0)  # failed: RTO and RPO broken
    make_run(reports)  # passed again: the latest run alone would say READY
    make_not_run(reports)  # rabbitmq: nothing shown
    md = report_md(reports, tmp_path / "out")
    assert "| postgres | **NOT READY** | 1 | FLAKY postgres-leader-kill: 2/3 passed, latest #3 PASSED |" in md
    assert "| rabbitmq | **UNVERIFIED** | 1 | NOT RUN rabbitmq-node-partition: 0/1 passed, latest #4 NOT-RUN |" in md


def test_every_run_passed_is_ready(tmp_path):
    reports = tmp_path / "reports"
    make_run(reports)
    make_run(reports, outage=(5.3, 12.0))
    md = report_md(reports, tmp_path / "out")
    assert "| postgres | **READY** | 1 | MET postgres-leader-kill: 2/2 passed, latest #2 PASSED |" in md


def _run(i: int, scenario: str, status: str) -> Run:
    verdicts = [] if status in ("not-run", "error", "aborted") else [
        {"checker": "lost-writes", "subject": "postgres.write", "status": "pass" if status == "passed" else "fail"}]
    journal = {"run_id": f"r{i}", "status": status, "started_at": f"2026-01-01T00:00:{i:02d}",
               "scenario": {"id": scenario, "component": "postgres"}, "verdicts": verdicts}
    return Run(Path(f"/nonexistent/r{i}"), journal, None)


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from(STATUSES)), min_size=1, max_size=12))
def test_ready_only_when_every_run_of_every_scenario_passed(history):
    runs = [_run(i, sid, status) for i, (sid, status) in enumerate(history)]
    [summary] = components(runs)
    statuses: dict[str, set[str]] = {}
    for sid, status in history:
        statuses.setdefault(sid, set()).add(status)
    assert (summary.readiness == "READY") == all(s == {"passed"} for s in statuses.values())
    if any("passed" in s and s & {"failed", "error"} for s in statuses.values()):
        assert summary.readiness == "NOT READY"
        assert "FLAKY" in {v.verdict for v in summary.verdicts}
    if any(not s & {"passed", "not-run"} for s in statuses.values()):  # failed, errored or aborted only
        assert summary.readiness == "NOT READY"
    assert [v.latest.run_id for v in summary.verdicts] == [r.run_id for r in summary.latest]
