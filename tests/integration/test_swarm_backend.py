"""The Swarm stack backend on a 2-node test cluster: a stack of the base image's `sleep infinity`
(two services, one per node, on an attachable overlay network) made from its Compose file by the
translation, deployed with `docker stack deploy`; each service's task on its node, its container
found through that node's engine, one task paused and resumed there, one killed and replaced by
Swarm (told as a system event); removed, nothing left; the cluster down at the end.

The main engine is only read (the base image, `docker save` by `drill cluster up`).
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from drills.core.dockerlabels import PROJECT_LABEL, SERVICE_LABEL
from drills.provision.compose import compose_command
from drills.stack.definition import RoleMap
from drills.stack.swarm_events import system_events
from drills.stack.swarm_project import SwarmNodes, SwarmProject
from drills.stack.swarm_spec import SwarmSpec
from drills.stack.swarm_translate import placements, translate
from tests.integration.test_cluster import base, drill, leftovers  # noqa: F401  (base: a fixture)

pytestmark = [pytest.mark.docker, pytest.mark.slow]

COMPOSE = """\
services:
  a:
    image: {image}
    command: ["sleep", "infinity"]
    container_name: not-in-swarm
    networks: [net]
  b:
    image: {image}
    command: ["sleep", "infinity"]
    depends_on:
      a: {{condition: service_started}}
    networks: [net]
networks:
  net: {{}}
"""


@pytest.fixture
def cluster(base: str) -> Iterator[SwarmNodes]:  # noqa: F811
    # A cluster a user built is theirs: the test would remove it, so it refuses to start instead.
    assert not leftovers(), f"a cluster is already here; remove it with `drill cluster down`: {leftovers()}"
    try:
        built = drill("up", "--nodes", "2", "--images", base)
        assert built.returncode == 0, built.stderr
        yield SwarmNodes.of_cluster()
    finally:
        down = drill("down")
        assert down.returncode == 0, down.stderr
        assert not leftovers(), f"left after `drill cluster down`:\n{down.stderr}"


def compose_model(tmp_path: Path, project: str, image: str, manager: str) -> dict[str, object]:
    import json

    (tmp_path / "compose.yaml").write_text(COMPOSE.format(image=image))
    # Compose reads no engine for `config`; pointed at the cluster's manager all the same, never the main engine.
    done = subprocess.run([*compose_command(), "-p", project, "-f", str(tmp_path / "compose.yaml"), "config",
                           "--format", "json"], capture_output=True, text=True, timeout=60, check=True,
                          env={"DOCKER_HOST": manager, "PATH": "/usr/bin:/bin"})
    model = json.loads(done.stdout)
    assert isinstance(model, dict)
    return model


def test_a_stack_deployed_one_task_per_node_reached_through_each_node_then_removed(
        base: str, cluster: SwarmNodes, tmp_path: Path) -> None:  # noqa: F811
    project = f"drills-swarm-{uuid.uuid4().hex[:6]}"
    model = compose_model(tmp_path, project, base, cluster.hosts[cluster.manager])
    services = sorted(model["services"])  # type: ignore[call-overload]
    placed = placements(SwarmSpec(placement={"a": "node-1", "b": "node-2"}), RoleMap(), services, list(cluster.hosts))
    deployable = translate(model, placed, project)
    assert any(note.startswith("a: container_name dropped") for note in deployable.notes)

    t0 = time.monotonic()
    with SwarmProject(project, cluster, deployable, ready_timeout_s=90) as stack:
        deployed_s = time.monotonic() - t0
        now = stack.current()
        assert {s: (t.node, t.state) for s, t in now.items()} == {"a": ("node-1", "running"),
                                                                 "b": ("node-2", "running")}
        a, b = stack.container("a"), stack.container("b")
        assert a.id == now["a"].container_id and b.id == now["b"].container_id
        assert a.labels[PROJECT_LABEL] == project and b.labels[SERVICE_LABEL] == "b"
        # Each container is on its node's engine, and only there.
        on_2 = stack.client("node-2").containers.list(filters={"label": f"{PROJECT_LABEL}={project}"})
        assert [c.id for c in on_2] == [b.id]
        # One network across the nodes: a finds b by its name (dnsrr: the task's own address).
        network = f"{project}_net"
        b_ip = b.attrs["NetworkSettings"]["Networks"][network]["IPAddress"]
        code, out = a.exec_run(["getent", "hosts", "b"])
        assert code == 0 and out.decode().split()[0] == b_ip, out

        b.pause()  # through node-2's engine: the manager only schedules
        b.reload()
        assert b.status == "paused"
        assert stack.current()["b"].container_id == b.id  # Swarm leaves a paused task alone
        b.unpause()
        b.reload()
        assert b.status == "running"

        # Swarm's own doing: a killed task is replaced (restart_policy any) on its node, and the task
        # history says so as the system's events.
        origin = time.time()
        a.kill()
        deadline = time.monotonic() + 60
        while True:  # the manager learns of the kill from node-1 a moment later: until then its task "runs"
            again = stack.current()["a"]
            if (again.running and again.container_id != a.id) or time.monotonic() > deadline:
                break
            time.sleep(1)
        replaced_s = time.time() - origin
        assert again.running and again.container_id != a.id and again.node == "node-1", again
        kinds = [(e.service, e.kind, e.subject) for e in system_events(stack.tasks(), origin=origin - 1)]
        assert ("a", "restarted", "node-1") in kinds, kinds
        t1 = time.monotonic()
    removed_s = time.monotonic() - t1
    assert stack.leftovers() == []
    for node, host in cluster.hosts.items():
        ps = subprocess.run(["docker", "-H", host, "ps", "-aq", "--filter", f"label={PROJECT_LABEL}={project}"],
                            capture_output=True, text=True, check=True, timeout=30).stdout
        nets = subprocess.run(["docker", "-H", host, "network", "ls", "-q", "--filter", f"name={project}"],
                              capture_output=True, text=True, check=True, timeout=30).stdout
        assert not ps.strip() and not nets.strip(), f"{node} still has {ps} {nets}"
    print(f"deployed and running {deployed_s:.1f} s, a killed task replaced in {replaced_s:.1f} s, "
          f"removed {removed_s:.1f} s")
