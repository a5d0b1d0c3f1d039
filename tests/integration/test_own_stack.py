"""Drilling a stack that is not the reference one, through the `drill` command as a user would:
stacks/examples/postgres-only (Patroni + etcd, nodes db-a..db-c named by io.drills.role labels).

- `drill doctor --stack` finds a role map that names a service the Compose files lack;
- `drill run --stack` runs the PostgreSQL scenario (its RabbitMQ bystander left out and said so)
  and reports the RabbitMQ scenario NOT RUN with the role the stack lacks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(1200)]
ROOT = Path(__file__).resolve().parents[2]
PG_ONLY = ROOT / "stacks" / "examples" / "postgres-only"


def drill(*args: str, timeout_s: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "drills", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout_s, env=os.environ.copy())


def test_doctor_finds_a_role_naming_a_service_the_compose_files_lack(tmp_path):
    stack = tmp_path / "stack.yaml"
    stack.write_text((PG_ONLY / "stack.yaml").read_text().replace("files: [compose.yaml]",
                                                                  f"files: [{PG_ONLY / 'compose.yaml'}]")
                     + "roles:\n  postgres: [db-a, db-z]\n")
    # Read from --json: the table wraps its cells to the terminal's width (a new, wider check name
    # split "do not define" over two lines once).
    done = drill("doctor", "--stack", str(stack), "--json", timeout_s=120)
    assert done.returncode == 1, done.stdout + done.stderr
    roles = {c["name"]: c for c in json.loads(done.stdout)["checks"]}["stack roles"]
    assert roles["status"] == "missing" and "db-z" in roles["detail"] and "do not define" in roles["detail"]
    table = drill("doctor", "--stack", str(stack), timeout_s=120)
    assert table.returncode == 1 and "not ready: 1 problem(s)" in table.stdout
    ok = drill("doctor", "--stack", str(PG_ONLY), "--json", timeout_s=120)
    checks = {c["name"]: c for c in json.loads(ok.stdout)["checks"]}
    assert checks["stack roles"]["status"] == "ok"
    assert "postgres: db-a, db-b, db-c" in checks["stack roles"]["detail"]


def test_a_postgres_only_stack_runs_what_applies_and_says_what_it_lacks(tmp_path):
    reports = tmp_path / "reports"
    summary = tmp_path / "summary.json"
    done = drill("run", "scenarios/postgres-leader-kill.yaml", "scenarios/rabbitmq-node-partition.yaml",
                 "--stack", str(PG_ONLY), "--reports", str(reports), "--summary", str(summary))
    assert done.returncode in (0, 1), done.stdout + done.stderr[-3000:]  # 1: below, the failover alone
    runs = {r["scenario"]: r for r in json.loads(summary.read_text())["runs"]}
    assert runs["rabbitmq-node-partition"]["status"] == "not-run"
    assert "has no rabbitmq role" in runs["rabbitmq-node-partition"]["observed"]
    [journal_path] = reports.glob("*postgres-leader-kill*/journal.json")
    journal = json.loads(journal_path.read_text())
    # Every bound held; the mechanism may not have: on this stack (Patroni 3.1.2) the synchronous
    # standby once refused the leader race ("following a different leader because i am not the
    # healthiest node": the asynchronous replica had received more WAL, and it may not be promoted),
    # the killed leader came back itself after its hold, and only the failover expectation saw it.
    failed = {v["checker"] for v in journal["verdicts"] if v["status"] != "pass"}
    assert journal["status"] == "passed" or failed == {"failover"}, journal["verdicts"]
    assert (done.returncode == 0) == (journal["status"] == "passed")
    assert journal["left_out"] and all("rabbitmq.publish NOT RUN" in line for line in journal["left_out"])
    # The faults hit the stack's own nodes, named by its labels.
    resolved = {t for f in journal["faults"] for t in f["resolved"]}
    assert resolved and resolved <= {"db-a", "db-b", "db-c"}
    if journal["status"] == "passed":  # a failed run's summary shows its failure first
        assert "rabbitmq.publish NOT RUN" in runs["postgres-leader-kill"]["observed"]
