"""`drill stack up` of a stack one of whose containers exits during the boot (a crashed node, a
secret it cannot read): nothing will start it again, so the wait ends there, not at the readiness
timeout (twice 120 s, with the fresh boot). The user is told which service stopped, and that
nothing is left running, through the `drill` command as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(600)]
ROOT = Path(__file__).resolve().parents[2]

CRASHING_WORKER = """\
services:
  worker1:
    entrypoint: ["sh", "-c", "echo 'cannot read /run/secrets/worker: no such file' >&2; exit 3"]
    restart: "no"
"""


def test_a_container_that_exits_during_the_boot_ends_the_wait_and_is_named(tmp_path, docker_client):
    override = tmp_path / "crash.yaml"
    override.write_text(CRASHING_WORKER)
    project = f"drills-hopeless-{os.getpid()}"
    try:
        argv = [sys.executable, "-m", "drills", "stack", "up", "--project", project, "-f", str(override)]
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=540, env=os.environ.copy())
        said = done.stdout + done.stderr
        assert done.returncode != 0, said[-3000:]
        assert "will not get ready" in said and "worker1 exited 3" in said, said[-3000:]
        assert "nothing restarts worker1" in said, said[-3000:]
        # Not the readiness timeout: the wait said what it saw when it gave up, well before 120 s.
        assert "not ready after 12" not in said, said[-3000:]
        left = docker_client.containers.list(all=True, filters={"label": f"com.docker.compose.project={project}"})
        assert left == [] or f"drill stack down --project {project}" in said, said[-3000:]
    finally:
        subprocess.run([sys.executable, "-m", "drills", "stack", "down", "--project", project],
                       cwd=ROOT, capture_output=True, text=True, timeout=300, env=os.environ.copy())
