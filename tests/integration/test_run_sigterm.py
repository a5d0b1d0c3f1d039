"""The real `drill run`, sent SIGTERM in the middle of its faults, unwinds like Ctrl-C.

CI runners cancelling a job, `timeout`, systemd and `docker stop` stop a drill with SIGTERM (some
to the whole process group), a closed terminal with SIGHUP, and impatient people send a second
signal while the first is being handled. Whatever arrives, the runner heals every fault, removes a
stack it started, keeps one `drill stack up` made, and exits 143 (128 + SIGTERM) saying `aborted`.

Mid-hold two faults are applied: a paused container (a step with `heal: false`) and a partition
of the PostgreSQL leader (iptables rules inside its network namespace).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from drills.faults import ledger, netns
from drills.stack.project import ComposeProject
from drills.stack.readiness import wait_ready
from tests.integration.test_run_sigkill import read_until

if TYPE_CHECKING:
    import docker

pytestmark = [pytest.mark.docker, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
HOLD_S = 120  # never reached: the runner is signalled during the hold

SCENARIO = f"""\
id: sigterm-mid-hold
title: faults a signalled runner must heal on its way out
component: postgres
policy: The runner may be stopped at any moment; what it applied is undone before it exits.
workload:
  postgres.write: {{rate: 10}}
steady: 1s
steps:
  - fault: pause
    target: worker[0]
    hold: 0s
    heal: false
  - fault: partition
    target: postgres.leader
    from: [postgres.*, etcd.*]
    direction: both
    hold: {HOLD_S}s
recovery:
  timeout: 60s
  conditions: [postgres]
expectations:
  - checker: lost-writes
    signal: postgres.write
    max_lost: 0
    why: never reached; the runner is signalled during the hold
"""


def drill(*args: str, **kwargs: object) -> subprocess.Popen[str]:
    """`drill ARGS` as a user starts it; its own session, so a test can signal its process group."""
    return subprocess.Popen([sys.executable, "-m", "drills", *args], cwd=ROOT, env=os.environ.copy(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, **kwargs)  # type: ignore[call-overload]


def selector(project: str) -> dict[str, str | list[str] | bool]:
    return {"label": f"com.docker.compose.project={project}"}


def cut_off(client: docker.DockerClient, project: str) -> list[str]:
    """Containers of `project` with a DROP rule in their network namespace."""
    return [c.name for c in client.containers.list(filters=selector(project))
            if netns.pid_of(c) is not None and "DROP" in netns.run(c, ["iptables", "-w", "-S"]).stdout]


def wait_mid_hold(runner: subprocess.Popen[str], client: docker.DockerClient, project: str,
                  seen: list[str]) -> None:
    """Both faults applied, the runner sleeping through the partition's hold."""
    read_until(runner, rf"hold {HOLD_S} s", 300, seen)
    assert sorted(e.kind for e in ledger.pending(project)) == ["partition", "pause"]
    assert [c.name for c in client.containers.list(filters={**selector(project), "status": "paused"})], \
        "the pause step paused nothing"
    [cut] = cut_off(client, project)
    assert re.search(r"-pg\d-", cut), cut


def finish(runner: subprocess.Popen[str], seen: list[str], timeout_s: float = 240) -> str:
    assert runner.stderr is not None
    _, rest = runner.communicate(timeout=timeout_s)
    return "".join(seen) + rest


def stop(runner: subprocess.Popen[str]) -> None:
    if runner.poll() is None:
        runner.kill()
        runner.wait()
    if runner.stderr is not None:
        runner.stderr.close()


def test_sigterm_mid_hold_heals_and_removes_the_runs_own_stack(docker_client, tmp_path):
    scenario = tmp_path / "sigterm.yaml"
    scenario.write_text(SCENARIO)
    seen: list[str] = []
    runner = drill("run", "--reports", str(tmp_path / "reports"), str(scenario))
    project = None
    try:
        project = read_until(runner, r"starting stack (\S+)", 60, seen).group(1)
        wait_mid_hold(runner, docker_client, project, seen)

        # `timeout` and `docker stop` signal the runner alone; a SIGHUP (the terminal closed) lands
        # while it unwinds and must not cut the heal or the teardown short.
        runner.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        runner.send_signal(signal.SIGHUP)
        out = finish(runner, seen)

        assert runner.returncode == 128 + signal.SIGTERM, out
        assert "aborted (SIGTERM)" in out, out
        assert "SIGHUP: already stopping" in out, out  # the second signal came during the unwinding
        assert docker_client.containers.list(all=True, filters=selector(project)) == []
        assert docker_client.networks.list(filters=selector(project)) == []
        assert docker_client.volumes.list(filters=selector(project)) == []
        assert ledger.pending(project) == []
        [journal] = (tmp_path / "reports").glob("*/journal.json")
        assert '"status": "aborted"' in journal.read_text() and "SIGTERM" in journal.read_text()
    finally:
        stop(runner)
        if project is not None:  # whatever the outcome, leave nothing running
            subprocess.run([sys.executable, "-m", "drills", "clean", "--project", project], cwd=ROOT,
                           capture_output=True, timeout=180)


def test_sigterm_mid_hold_heals_and_keeps_a_stack_up_stack(docker_client, tmp_path):
    project = f"drills-sigterm-{uuid.uuid4().hex[:6]}"
    scenario = tmp_path / "sigterm.yaml"
    scenario.write_text(SCENARIO)
    seen: list[str] = []
    runner = None
    try:
        up = subprocess.run([sys.executable, "-m", "drills", "stack", "up", "--project", project], cwd=ROOT,
                            capture_output=True, text=True, timeout=400)
        assert up.returncode == 0, up.stdout + up.stderr
        before = {c.name for c in docker_client.containers.list(all=True, filters=selector(project))}
        volumes = {v.name for v in docker_client.volumes.list(filters=selector(project))}
        runner = drill("run", "--project", project, "--reports", str(tmp_path / "reports"), str(scenario))
        wait_mid_hold(runner, docker_client, project, seen)

        # systemd and `timeout` signal the whole process group (the runner's `nsenter` and
        # `docker compose` children too); a Ctrl-C while it unwinds must not cut the heal short.
        os.killpg(runner.pid, signal.SIGTERM)
        time.sleep(0.2)
        os.killpg(runner.pid, signal.SIGINT)
        out = finish(runner, seen)

        assert runner.returncode == 128 + signal.SIGTERM, out
        assert "aborted (SIGTERM)" in out, out
        assert "SIGINT: already stopping" in out, out
        assert ledger.pending(project) == []
        assert cut_off(docker_client, project) == [], f"the partition's rules are still in place:\n{out}"
        containers = docker_client.containers.list(all=True, filters=selector(project))
        assert {c.name for c in containers} == before, "the stack's containers must all be kept"
        assert {v.name for v in docker_client.volumes.list(filters=selector(project))} == volumes
        assert [c.name for c in containers if c.status == "paused"] == [], "a paused container was left"
        # Kept means usable: every container healthy, a leader with both replicas streaming again.
        wait_ready(ComposeProject.attach(project, docker_client), timeout_s=180)
    finally:
        if runner is not None:
            stop(runner)
        subprocess.run([sys.executable, "-m", "drills", "stack", "down", "--project", project], cwd=ROOT,
                       capture_output=True, timeout=180)

