"""The real `drill run` keeps every container's log of the drill in the run's folder and reads the
system's own events from them: the PostgreSQL leader killed, Patroni promotes a replica, and the
history, the report and the sealed logs say so; no generated secret is in any of them."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from drills.core.errors import StackError
from drills.core.events import SystemEvent
from drills.core.history import load
from drills.stack import state
from tests.integration.drive import ROOT, finish
from tests.integration.test_run_repeat import project_containers
from tests.integration.test_run_sigkill import read_until

pytestmark = [pytest.mark.docker, pytest.mark.slow]

SCENARIO = """\
id: logs-leader-kill
title: the PostgreSQL leader killed; what Patroni logged is in the run
component: postgres
policy: The system continues working using a replica.
workload:
  postgres.write: {rate: 20}
steady: 3s
steps:
  - fault: kill
    target: postgres.leader
    hold: 14s
recovery:
  timeout: 120s
  conditions: [postgres]
after: 3s
expectations:
  - checker: availability
    signal: postgres.write
    max_rto: 60s
    why: A replica takes over once the killed leader's key expires (ttl 10 s); the bound only asks it does.
"""


def secrets_of(project: str, timeout_s: float = 60) -> list[str]:
    """The stack's generated secrets, from its saved settings (written as `up` begins)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return list(state.load(project).secrets.env().values())
        except StackError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_a_drill_keeps_its_logs_and_the_system_s_events(docker_client, tmp_path):
    scenario = tmp_path / "logs.yaml"
    scenario.write_text(SCENARIO)
    reports = tmp_path / "reports"
    proc = subprocess.Popen([sys.executable, "-m", "drills", "run", "--reports", str(reports), str(scenario)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen: list[str] = []
    try:
        project = read_until(proc, r"starting stack (\S+)", 120, seen).group(1)
        secrets = secrets_of(project)
    except BaseException:
        proc.kill()
        finish(proc, seen, 60)
        raise
    rc = finish(proc, seen, 900)
    log = "".join(seen)
    [run] = [p.parent for p in reports.glob("*/journal.json")]
    journal = json.loads((run / "journal.json").read_text())
    assert journal["status"] in ("passed", "failed"), log[-3000:]
    assert rc in (0, 1)
    assert project_containers(docker_client, project) == []

    # A file per service, each saying whose log it is; nothing unaccounted for.
    index = json.loads((run / "logs" / "index.json").read_text())
    assert index["error"] is None, index["error"]
    services = {e["service"] for e in index["containers"]}
    assert {"pg1", "pg2", "pg3", "etcd1", "etcd2", "etcd3", "rabbit1", "lb"} <= services
    for e in index["containers"]:
        assert e["file"] and e["error"] is None, e
        text = (run / "logs" / e["file"]).read_text()
        assert text.startswith(f"# drills: {e['container']} (service {e['service']}")
        assert all(secret not in text for secret in secrets), e["file"]
    leader = journal["faults"][0]["resolved"][0]
    assert any("promoted self to leader" in (run / "logs" / f"{s}.log").read_text()
               for s in ("pg1", "pg2", "pg3") if s != leader)

    # The history has Patroni's promotion of another node, after the kill, on the drill's clock.
    _, events = load(run / "history.jsonl")
    system = [e for e in events if e.name == SystemEvent.NAME]
    promoted = [e for e in system if e.data["component"] == "patroni" and e.data["kind"] == "promoted"
                and e.data["service"] != leader]
    killed_at = journal["faults"][0]["injected_s"]
    assert promoted, [e.data for e in system]
    assert killed_at < promoted[0].at < killed_at + 60
    history = (run / "history.jsonl").read_text()
    assert all(secret not in history for secret in secrets)

    # The report shows it; the seal covers the logs.
    out = tmp_path / "out"
    report = subprocess.run([sys.executable, "-m", "drills", "report", "--format", "md", "--out", str(out), str(run)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert report.returncode == 0, report.stderr
    md = (out / "drill-report.md").read_text()
    assert "**What the system logged it did**" in md
    assert f"| {promoted[0].data['service']} | patroni promoted |" in md
    manifest = json.loads((run / "manifest.json").read_text())
    assert f"logs/{leader}.log" in manifest["artifacts"] and "logs/index.json" in manifest["artifacts"]
    verify = [sys.executable, "-m", "drills", "verify", str(run)]
    assert subprocess.run(verify, cwd=ROOT, capture_output=True, timeout=120).returncode == 0
    edited = run / "logs" / f"{leader}.log"
    edited.write_text(edited.read_text() + "a line added after sealing\n")
    bad = subprocess.run(verify, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and f"artifact changed: logs/{leader}.log" in bad.stdout
