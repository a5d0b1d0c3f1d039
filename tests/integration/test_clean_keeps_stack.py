"""A `drill stack up` stack is the user's: `drill clean --project P` after a SIGKILLed drill against
it heals the fault and keeps every container and volume. And when its containers are removed
behind Drills' back (`docker rm`), `drill run --project P` says at once what is missing and how to
bring it back, and `drill stack up --project P` brings it back with its volumes.

All through the shipped CLI, on the reference stack, in the machine's own state directory (as a
user runs it).
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

import pytest

from drills.faults import ledger, netns
from drills.stack.project import ComposeProject
from drills.stack.readiness import wait_ready
from tests.integration.test_run_sigkill import SCENARIO, read_until

# Two boots of the whole stack and a drill: ~4 min on a quiet machine, 16 min measured under a load of 130.
pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(2400)]
ROOT = Path(__file__).resolve().parents[2]


def drill(*args: str, timeout_s: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "drills", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout_s, env=os.environ.copy())


def iptables_drops(docker_client, selector) -> list[str]:
    return [c.name for c in docker_client.containers.list(filters=selector)
            if "DROP" in netns.run(c, ["iptables", "-w", "-S"]).stdout]


def test_clean_project_heals_and_keeps_a_stack_up_stack(docker_client, tmp_path):
    project = f"drills-keep-{uuid.uuid4().hex[:6]}"
    selector = {"label": f"com.docker.compose.project={project}"}
    scenario = tmp_path / "sigkill.yaml"
    # The drill waits for a healthy baseline up to its recovery timeout: generous, for a shared machine.
    scenario.write_text(SCENARIO.replace("timeout: 60s", "timeout: 300s"))
    runner: subprocess.Popen[str] | None = None
    try:
        up = drill("stack", "up", "--project", project, "--timeout", "300", timeout_s=900)
        assert up.returncode == 0, up.stdout + up.stderr
        containers = {c.name: c.id for c in docker_client.containers.list(all=True, filters=selector)}
        volumes = {v.name: v.attrs["CreatedAt"] for v in docker_client.volumes.list(filters=selector)}
        assert len([v for v in volumes if re.search(r"_pg\d-data$", v)]) == 3, volumes

        stack = ComposeProject.attach(project, docker_client)
        seen: list[str] = []
        runner = subprocess.Popen([sys.executable, "-m", "drills", "run", "--project", project,
                                   "--reports", str(tmp_path / "reports"), str(scenario)], cwd=ROOT,
                                  env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        read_until(runner, r"hold 300 s", 600, seen)
        [applied] = ledger.pending(project)
        assert applied.kind == "partition" and applied.pid == runner.pid
        cut = iptables_drops(docker_client, selector)
        assert len(cut) == 1 and re.search(r"-pg\d-", cut[0]), f"one PostgreSQL node cut off, got {cut}"

        runner.send_signal(signal.SIGKILL)
        runner.wait(30)

        done = drill("clean", "--project", project)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"healed   {project}: partition" in done.stdout, done.stdout
        assert f"kept     {project}: a `drill stack up` stack" in done.stdout, done.stdout
        assert f"removed  {project}" not in done.stdout, done.stdout
        assert ledger.pending(project) == []
        assert iptables_drops(docker_client, selector) == [], "the partition must be healed"
        after = {c.name: c.id for c in docker_client.containers.list(all=True, filters=selector)}
        assert after == containers, "every container of the stack is kept, none recreated"
        assert {v.name: v.attrs["CreatedAt"] for v in docker_client.volumes.list(filters=selector)} == volumes
        assert docker_client.networks.list(filters=selector) != []
        wait_ready(stack, timeout_s=300)  # healthy again: leader, streaming replicas, queues, containers

        # Now its containers go behind Drills' back (`docker rm -f`: network and volumes stay).
        for container_id in containers.values():
            docker_client.api.remove_container(container_id, force=True)
        t0 = time.monotonic()
        # Before: a readiness wait of the scenario's 60 s, then "(last seen: all healthy)".
        run = drill("run", "--project", project, "--reports", str(tmp_path / "reports"), str(scenario), timeout_s=50)
        print(f"drill run --project after docker rm: exit {run.returncode} after {time.monotonic() - t0:.1f} s")
        assert run.returncode == 3, run.stdout + run.stderr
        assert f"stack {project}: none of its {len(containers)} services has a container" in run.stderr, run.stderr
        assert f"`drill stack up --project {project}`" in run.stderr and "all healthy" not in run.stderr

        status = drill("stack", "status", "--project", project)
        assert status.returncode == 3 and f"stack {project}: none of its" in status.stderr, status.stderr

        back = drill("stack", "up", "--project", project, "--timeout", "300", timeout_s=900)
        assert back.returncode == 0, back.stdout + back.stderr
        assert "its volumes are kept" in back.stdout + back.stderr
        assert {v.name: v.attrs["CreatedAt"] for v in docker_client.volumes.list(filters=selector)} == volumes
        assert sorted(c.name for c in docker_client.containers.list(filters=selector)) == sorted(containers)
    finally:
        if runner is not None:
            if runner.poll() is None:
                runner.kill()
                runner.wait()
            if runner.stderr is not None:
                runner.stderr.close()
        drill("stack", "down", "--project", project)
