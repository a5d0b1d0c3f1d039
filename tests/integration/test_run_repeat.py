"""The real `drill run --repeat 2` on a short scenario: the JSON summary's pass rate, flakiness and
distributions agree with the runs' own journals; Ctrl-C in repetition 2 heals, removes the stack
and still writes what repetition 1 measured."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from drills.faults import ledger
from tests.integration.drive import drill_to_end, finish
from tests.integration.test_run_sigkill import read_until

pytestmark = [pytest.mark.docker, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]

# The shortest useful drill: one load-balanced dashboard killed for 3 s.
SCENARIO = """\
id: repeat-short
title: one dashboard instance killed for 3 s, run repeatedly
component: app
policy: >
  Dashboards are load balanced: when one instance dies the balancer sends visitors to the other.
  No service degradation is expected.
workload:
  http.dashboard: {rate: 20}
steady: 2s
steps:
  - fault: kill
    target: dashboard[0]
    hold: 3s
recovery:
  timeout: 60s
  conditions: [containers]
after: 2s
expectations:
  - checker: availability
    signal: http.dashboard
    max_rto: 10s
    max_outage: 10s
    why: >
      HAProxy re-dispatches a request the dead instance refused and takes it out after 2 failed
      checks 1 s apart; 10 s is five times that.
"""


def journals(reports: Path) -> dict[str, dict[str, Any]]:
    return {p.parent.name: json.loads(p.read_text()) for p in reports.glob("*/journal.json")}


def measured(journal: dict[str, Any], key: str) -> float | None:
    [v] = [v for v in journal["verdicts"] if v["checker"] == "availability"] or [{"measured": {}}]
    value = v["measured"].get(key)
    return None if value is None else float(value)


def project_containers(docker_client, project: str) -> list[Any]:
    return docker_client.containers.list(all=True, filters={"label": f"com.docker.compose.project={project}"})


def start(tmp_path: Path, repeat: int) -> subprocess.Popen[str]:
    scenario = tmp_path / "repeat-short.yaml"
    scenario.write_text(SCENARIO)
    return subprocess.Popen([sys.executable, "-m", "drills", "run", "--repeat", str(repeat), "--reports",
                             str(tmp_path / "reports"), "--summary", str(tmp_path / "summary.json"), str(scenario)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def test_repeat_2_summarises_pass_rate_and_distributions(docker_client, tmp_path):
    scenario = tmp_path / "repeat-short.yaml"
    scenario.write_text(SCENARIO)
    project, rc, log = drill_to_end("run", "--repeat", "2", "--reports", str(tmp_path / "reports"), "--summary",
                                    str(tmp_path / "summary.json"), str(scenario))
    assert "repetition 1/2" in log and "repetition 2/2" in log and "[2/2] repeat-short: hold" in log, log[-3000:]

    summary = json.loads((tmp_path / "summary.json").read_text())
    by_run = journals(tmp_path / "reports")
    assert (summary["repeat"], summary["interrupted"]) == (2, False)
    assert [(r["index"], r["complete"]) for r in summary["repetitions"]] == [(1, True), (2, True)]
    assert all(r["wall_s"] > 0 for r in summary["repetitions"]) and summary["stack_up_s"] > 0
    [sc] = summary["scenarios"]
    assert sc["scenario"] == "repeat-short" and sc["samples"] == 2
    assert [r["repetition"] for r in sc["runs"]] == [1, 2]
    statuses = [by_run[r["run_id"]]["status"] for r in sc["runs"]]
    passed = statuses.count("passed")
    assert sc["counts"]["passed"] == passed and sum(sc["counts"].values()) == 2
    assert sc["pass_rate"] == passed / 2
    assert sc["flaky"] == (passed == 1 and bool(set(statuses) & {"failed", "error"}))
    assert sc["met"] == (passed == 2)
    # Exit code: 0 only when both runs met every expectation; a harness error stays 3.
    assert rc == summary["exit_code"] == (0 if passed == 2 else 3 if "error" in statuses else 1), log[-3000:]

    metrics = {(m["kind"], m["subject"]): m for m in sc["metrics"]}
    for kind, key in (("RTO", "rto_s"), ("outage", "longest_outage_s")):
        m = metrics[(kind, "http.dashboard")]
        values = [measured(by_run[r["run_id"]], key) for r in sc["runs"]]
        got = [v for v in values if v is not None]
        assert [s["value"] for s in m["samples"]] == got
        assert (m["n"], m["not_measured"]) == (len(got), values.count(None))
        assert m["target"] == 10.0
        if got:
            assert m["min"] == min(got) and m["max"] == max(got) == m["p95"]  # n < 20: p95 is the max
            assert m["min"] <= m["p50"] <= m["p95"] <= m["max"]
            assert m["p50"] == sorted(got)[0]  # nearest rank of 1 or 2 samples: the smallest
    assert project_containers(docker_client, project) == []

    done = subprocess.run([sys.executable, "-m", "drills", "report", str(tmp_path / "reports"), "--format", "md",
                           "--out", str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    md = (tmp_path / "out" / "drill-report.md").read_text()
    assert "## Repeated runs" in md and "### repeat-short — " in md and f"{passed}/2 passed" in md

    # Each run recorded the configuration it drilled, read back from the stack, and compared it at its end.
    for run in sc["runs"]:
        env = by_run[run["run_id"]]["environment"]
        parts = env["effective"]["parts"]
        assert parts["postgres"]["settings"]["patroni"]["synchronous_mode"] is True, parts["postgres"]
        assert parts["rabbitmq"]["settings"]["queues"]["scheduled-runs"]["type"] == "quorum", parts["rabbitmq"]
        assert env["effective_after"]["changes"] == [], env["effective_after"]
    assert md.count("**Effective configuration drilled**") == 2, md
    for piece in ("synchronous_mode on", "scheduled-runs quorum (3 members", "backend dashboards: dashboard1 UP"):
        assert piece in md, piece


def test_ctrl_c_in_repetition_2_heals_and_reports_repetition_1(docker_client, tmp_path):
    seen: list[str] = []
    proc = start(tmp_path, 2)
    project = None
    try:
        project = read_until(proc, r"starting stack (\S+)", 60, seen).group(1)
        read_until(proc, r"\[2/2\] repeat-short: hold", 780, seen)
        assert ledger.pending(project), "the kill of repetition 2 is applied"
        proc.send_signal(signal.SIGINT)
        rc = finish(proc, seen, 300)
        log = "".join(seen)
        assert rc == 130, log[-3000:]
        assert "stopped early: 1 of 2 repetition(s) complete; 2 run(s) recorded" in log, log[-3000:]

        summary = json.loads((tmp_path / "summary.json").read_text())
        assert (summary["interrupted"], summary["exit_code"]) == (True, None)
        assert [(r["index"], r["complete"]) for r in summary["repetitions"]] == [(1, True), (2, False)]
        first, second = summary["runs"]
        by_run = journals(tmp_path / "reports")
        assert first["status"] == by_run[first["run_id"]]["status"] != "aborted"
        assert second["status"] == by_run[second["run_id"]]["status"] == "aborted"
        [sc] = summary["scenarios"]
        assert sc["counts"]["aborted"] == 1 and sc["met"] is False and sc["pass_rate"] <= 0.5
        rto = next(m for m in sc["metrics"] if m["kind"] == "RTO")
        assert [s["value"] for s in rto["samples"]] == [v for v in [measured(by_run[first["run_id"]], "rto_s")]
                                                        if v is not None]
        assert ledger.pending(project) == []  # the kill was healed
        assert project_containers(docker_client, project) == []  # and the run's own stack removed
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
        if project is not None:
            subprocess.run([sys.executable, "-m", "drills", "clean", "--project", project], cwd=ROOT,
                           capture_output=True, timeout=180)
