"""Teardown on the real engine: a network with a container still attached is detached and removed;
a container of another project is never detached (the network is then a leftover with its command);
a run's containers go with their anonymous volumes; and a `drill stack up` that never gets ready says
what it left and the command that removes it, and that command leaves no volume of its containers.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest

from drills.core.dockerlabels import MANAGED_LABEL, PROJECT_LABEL
from drills.provision import base_image
from drills.provision.images import ensure_images
from drills.stack.removal import Leftover, remove_network, remove_project

pytestmark = pytest.mark.docker
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(docker_client, tmp_path, monkeypatch) -> Iterator[str]:
    """A project name of this test alone (its records in a state dir of its own), and afterwards
    nothing of it or of its foreign companion left, whatever the test did."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    name = f"drills-teardown-{uuid.uuid4().hex[:8]}"
    yield name
    for which in (name, f"{name}-foreign"):
        selector = {"label": f"{PROJECT_LABEL}={which}"}
        for c in docker_client.containers.list(all=True, filters=selector):
            with contextlib.suppress(docker.errors.NotFound):
                c.remove(force=True, v=True)
        for n in docker_client.networks.list(filters=selector):
            with contextlib.suppress(docker.errors.NotFound):
                n.remove()


def labelled(project: str) -> dict[str, str]:
    return {MANAGED_LABEL: "true", PROJECT_LABEL: project}


def sleeper(client: docker.DockerClient, project: str, network: str, image: str | None = None) -> Any:
    base = image or base_image.resolve(client)
    assert base is not None, "run `drill setup` first"
    return client.containers.run(base, ["sleep", "600"], detach=True, network=network, labels=labelled(project),
                                 name=f"{project}-{uuid.uuid4().hex[:4]}", init=True)


def test_a_network_with_a_container_still_attached_is_detached_and_removed(docker_client, project):
    network = docker_client.networks.create(f"{project}_stack", labels=labelled(project))
    attached = sleeper(docker_client, project, network.name)

    outcome = remove_network(network, project)

    assert outcome == "removed"
    with pytest.raises(docker.errors.NotFound):
        docker_client.networks.get(network.id)
    attached.reload()
    assert attached.status == "running", "detached, not removed: the container is removal's other step"
    assert remove_network(network, project) == "gone"


def test_a_container_of_another_project_is_never_detached(docker_client, project):
    network = docker_client.networks.create(f"{project}_stack", labels=labelled(project))
    foreign = sleeper(docker_client, f"{project}-foreign", network.name)

    outcome = remove_network(network, project, attempts=2)

    assert isinstance(outcome, Leftover), outcome
    assert "active endpoints" in outcome.why and f"not of {project}" in outcome.why
    assert outcome.command == (f"docker network disconnect -f {network.name} {foreign.name} && "
                               f"docker network rm {network.name}")
    network.reload()
    assert foreign.id in (network.attrs.get("Containers") or {}), "still attached"
    subprocess.run(outcome.command, shell=True, check=True, capture_output=True)  # the command says true
    with pytest.raises(docker.errors.NotFound):
        docker_client.networks.get(network.id)


def test_a_runs_containers_go_with_their_anonymous_volumes(docker_client, project):
    """The image of the PostgreSQL tier declares a VOLUME: a container of it that mounts nothing
    there gets an anonymous, unlabelled volume, which the project's label cannot find afterwards."""
    image = ensure_images(docker_client)["DRILLS_IMAGE_PATRONI"]
    network = docker_client.networks.create(f"{project}_stack", labels=labelled(project))
    container = sleeper(docker_client, project, network.name, image)
    container.reload()
    anonymous = [m["Name"] for m in container.attrs["Mounts"] if m.get("Type") == "volume"]
    assert len(anonymous) == 1, container.attrs["Mounts"]
    assert docker_client.volumes.get(anonymous[0]).attrs.get("Labels") in (None, {}), "unlabelled"

    done = remove_project(docker_client, project)

    assert done.left == []
    assert f"container {container.name}" in done.removed and f"network {network.name}" in done.removed
    with pytest.raises(docker.errors.NotFound):
        docker_client.volumes.get(anonymous[0])


class MountWatch:
    """Which volumes the containers of `project` mount, from the engine's events as they come (its
    backlog holds the last 256 events only, which health checks fill in seconds): containers created
    and removed meanwhile count too."""

    def __init__(self, client: docker.DockerClient, project: str) -> None:
        self.created: dict[str, str] = {}  # container id -> name
        self.mounts: dict[str, str] = {}  # volume name -> container id
        self._streams = [client.events(decode=True, filters={"type": "container", "event": "create",
                                                               "label": f"{PROJECT_LABEL}={project}"}),
                         client.events(decode=True, filters={"type": "volume", "event": "mount"})]
        self._threads = [threading.Thread(target=self._read, args=(stream,), daemon=True) for stream in self._streams]
        for thread in self._threads:
            thread.start()

    def _read(self, stream: Any) -> None:
        with contextlib.suppress(Exception):  # closed under its feet at the end
            for event in stream:
                actor = event.get("Actor") or {}
                if event.get("Type") == "container":
                    self.created[actor["ID"]] = actor.get("Attributes", {}).get("name", "?")
                else:
                    self.mounts[actor["ID"]] = actor.get("Attributes", {}).get("container", "")

    def stop(self) -> dict[str, str]:
        """Volume name -> the name of the container of the project that mounted it."""
        time.sleep(1)  # the last events on their way
        for stream in self._streams:
            stream.close()
        for thread in self._threads:
            thread.join(10)
        return {volume: self.created[c] for volume, c in self.mounts.items() if c in self.created}


def drill(*args: str, timeout_s: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "drills", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout_s, env=os.environ.copy(), stdin=subprocess.DEVNULL)


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_a_failed_stack_up_says_what_it_left_and_its_removal_leaves_no_volume(docker_client, tmp_path):
    """`drill stack up` that never gets ready (a readiness timeout of 1 s: the stack is booted, then
    booted afresh, and given up) names the project, its containers and `drill stack down --project
    P`; that command removes it, and no volume any of its containers mounted is left (the etcd
    members used to leave one each: the image's VOLUME)."""
    project = f"drills-teardown-{uuid.uuid4().hex[:6]}"
    watch = MountWatch(docker_client, project)
    try:
        up = drill("stack", "up", "--project", project, "--timeout", "1", timeout_s=900)
        print(up.stderr[-3000:])
        assert up.returncode == 3, up.stdout + up.stderr
        tail = up.stderr.strip().splitlines()
        assert any(line.startswith(f"left running: {project}: containers ") for line in tail), up.stderr
        [left] = [line for line in tail if line.startswith("left running:")]
        assert "etcd1" in left and "pg1" in left and f"network {project}_stack" in left, left
        assert left.endswith(f"`drill stack down --project {project}` removes it"), left
        assert tail[-1].strip().startswith("fix:") and f"`drill stack down --project {project}`" in tail[-1]
        etcd = docker_client.containers.list(all=True, filters={"label": [f"{PROJECT_LABEL}={project}",
                                                                          "com.docker.compose.service=etcd1"]})
        assert [m.get("Type") for c in etcd for m in c.attrs["Mounts"]] == [], "a tmpfs, no volume"
    finally:
        down = drill("stack", "down", "--project", project, timeout_s=600)
    assert down.returncode == 0, down.stdout + down.stderr
    assert f"{project} removed" in down.stdout
    mounted = watch.stop()
    assert len(watch.created) > 10, f"the stack's containers were seen created: {watch.created}"
    print(f"{len(watch.created)} containers of {project} created, {len(mounted)} volumes mounted by them")
    assert any("pg1" in c for c in mounted.values()), f"the data volumes were mounted: {mounted}"
    left_over = {name: c for name, c in mounted.items() if _exists(docker_client, name)}
    assert left_over == {}, f"volumes of {project}'s containers left after `drill stack down`: {left_over}"


def _exists(client: docker.DockerClient, volume: str) -> bool:
    try:
        client.volumes.get(volume)
    except docker.errors.NotFound:
        return False
    return True
