"""`drill clean` removes only what its own state directory says a dead `drill run` started.

A Drills project of which the state directory has no record (another user's `drill stack up`, a
stack made with another `XDG_STATE_HOME`) carries the same labels as an orphan: with a fresh state
directory, every Drills project on the engine used to be removed. Through the CLI, on one tiny
labelled container (the base image's `sleep`) with a labelled network and volume, no stack.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid
from pathlib import Path

import docker.errors
import pytest

from drills.core import local_state
from drills.provision import base_image

pytestmark = pytest.mark.docker
ROOT = Path(__file__).resolve().parents[2]
PROJECT_LABEL = "com.docker.compose.project"


def drill(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "drills", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env=os.environ.copy())


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_clean_keeps_a_project_unknown_to_its_state_dir(docker_client, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # fresh: it knows nothing yet
    base = base_image.resolve(docker_client)
    assert base is not None, "run `drill setup` first"
    token = uuid.uuid4().hex[:8]
    foreign, dead_run = f"drills-foreign-{token}", f"drills-deadrun-{token}"
    labels = {PROJECT_LABEL: foreign}
    network = docker_client.networks.create(f"{foreign}_default", labels=labels)
    volume = docker_client.volumes.create(f"{foreign}_data", labels=labels)
    container = docker_client.containers.run(base, ["sleep", "120"], detach=True, init=True, labels=labels,
                                             name=f"{foreign}-a-1", network=network.name,
                                             volumes={volume.name: {"bind": "/data", "mode": "rw"}})
    # What this state directory does know: a `drill run` that started a project and was killed.
    docker_client.volumes.create(f"{dead_run}_data", labels={PROJECT_LABEL: dead_run})
    local_state.register_owner(dead_run, "run")
    record = local_state.state_dir() / "projects" / f"{dead_run}.json"
    record.write_text(record.read_text().replace(f'"pid": {os.getpid()}', f'"pid": {dead_pid()}'))

    def foreign_left() -> dict[str, list[str]]:
        selector = {"label": f"{PROJECT_LABEL}={foreign}"}
        return {"containers": [c.id for c in docker_client.containers.list(all=True, filters=selector)],
                "networks": [n.id for n in docker_client.networks.list(filters=selector)],
                "volumes": [v.name for v in docker_client.volumes.list(filters=selector)]}

    everything = {"containers": [container.id], "networks": [network.id], "volumes": [volume.name]}
    try:
        # Scoped first: had the old rule come back, only this test's own project would be lost.
        scoped = drill("clean", "--project", foreign)
        assert scoped.returncode == 0, scoped.stdout + scoped.stderr
        assert foreign_left() == everything, scoped.stdout
        assert f"kept     {foreign}: unknown to this state dir" in scoped.stdout, scoped.stdout
        assert f"`drill stack down --project {foreign}`" in scoped.stdout
        assert f"`drill clean --all --project {foreign}`" in scoped.stdout
        assert "removed" not in scoped.stdout

        unscoped = drill("clean")
        assert unscoped.returncode == 0, unscoped.stdout + unscoped.stderr
        assert foreign_left() == everything, unscoped.stdout
        assert f"kept     {foreign}: unknown to this state dir" in unscoped.stdout, unscoped.stdout
        assert f"removed  {dead_run}: volume {dead_run}_data" in unscoped.stdout, unscoped.stdout
        assert docker_client.volumes.list(filters={"label": f"{PROJECT_LABEL}={dead_run}"}) == []
        assert dead_run not in {o.project for o in local_state.owners()}
        container.reload()
        assert container.status == "running"
    finally:  # this test's own resources only; each may already be gone when it failed
        for remove in (lambda: container.remove(force=True), network.remove, lambda: volume.remove(force=True),
                       *(lambda v=v: v.remove(force=True)
                         for v in docker_client.volumes.list(filters={"label": f"{PROJECT_LABEL}={dead_run}"}))):
            with contextlib.suppress(docker.errors.NotFound):
                remove()
