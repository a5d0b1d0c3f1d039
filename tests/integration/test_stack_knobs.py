"""The reference stack's operator knobs are service environment variables: a Compose override
file changes them without any edit of the project. Each knob is read back from the running system."""

from __future__ import annotations

import sys
from pathlib import Path

import docker.errors
import pytest

from drills.components._rabbitmq_api import QUEUES
from drills.components._rabbitmq_topology import management
from drills.components.httpjson import request_json
from drills.files.stack_file import load_stack
from drills.provision.images import ensure_images
from drills.stack import ComposeProject
from drills.stack.effective import read_effective
from drills.stack.effective_text import lines
from drills.stack.loadbalancer import read_status
from drills.stack.project import compose_file
from drills.stack.removal import Removal
from drills.stack.topology import Legacy

pytestmark = pytest.mark.docker

RABBIT_ENV = {"DRILLS_RABBITMQ_PEERS": "rabbit1=10.0.0.1", "DRILLS_RABBITMQ_COOKIE": "c",
              "DRILLS_RABBITMQ_PASSWORD": "p"}


@pytest.fixture(scope="module")
def images(docker_client):
    return ensure_images(docker_client)


def rendered(client, image: str, env: dict[str, str], path: str) -> str:
    """`path` as the image's entrypoint writes it from `env` (the command only prints it)."""
    out = client.containers.run(image, ["cat", path], environment=env, network_mode="none", remove=True)
    return out.decode() if isinstance(out, bytes) else str(out)


@pytest.mark.parametrize("value", ["pause_minority", "autoheal", "ignore"])
def test_rabbitmq_partition_handling_is_the_services_choice(docker_client, images, value):
    conf = rendered(docker_client, images["DRILLS_IMAGE_RABBITMQ"],
                    {**RABBIT_ENV, "DRILLS_RABBITMQ_PARTITION_HANDLING": value}, "/etc/rabbitmq/rabbitmq.conf")
    assert f"\ncluster_partition_handling = {value}\n" in conf


def test_rabbitmq_partition_handling_defaults_to_pause_minority_and_refuses_an_unknown_mode(docker_client, images):
    image = images["DRILLS_IMAGE_RABBITMQ"]
    conf = rendered(docker_client, image, RABBIT_ENV, "/etc/rabbitmq/rabbitmq.conf")
    assert "\ncluster_partition_handling = pause_minority\n" in conf
    with pytest.raises(docker.errors.ContainerError) as refused:
        rendered(docker_client, image, {**RABBIT_ENV, "DRILLS_RABBITMQ_PARTITION_HANDLING": "pause_if_all_down"},
                 "/etc/rabbitmq/rabbitmq.conf")
    assert refused.value.exit_status == 2
    assert b"not one of pause_minority, autoheal, ignore" in (refused.value.stderr or b"")


def test_the_balancer_image_renders_a_valid_configuration_for_the_backends_named(docker_client, images):
    out = docker_client.containers.run(images["DRILLS_IMAGE_HAPROXY"], ["haproxy", "-c", "-f", "/tmp/haproxy.cfg"],
                                       environment={"DRILLS_LB_BACKENDS": "dashboard1 dashboard2 dashboard3"},
                                       network_mode="none", remove=True, stderr=True)
    assert b"Configuration file is valid" in out


APP_SERVICES = ("dashboard1", "dashboard2", "scheduler", "worker1", "worker2", "mailer", "connector")


def override_text(base: Path) -> str:
    """An operator's override: classic queues, one more dashboard behind the balancer, asynchronous
    replication, autoheal. Nothing of the project is edited."""
    classic = "{environment: {DRILLS_QUEUE_TYPE: classic}}"
    lines = ["services:"]
    lines += [f"  pg{i}: {{environment: {{DRILLS_PATRONI_SYNCHRONOUS_MODE: 'false'}}}}" for i in (1, 2, 3)]
    lines += [f"  rabbit{i}: {{environment: {{DRILLS_RABBITMQ_PARTITION_HANDLING: autoheal}}}}" for i in (1, 2, 3)]
    lines += [f"  {name}: {classic}" for name in APP_SERVICES]
    lines += [
        "  dashboard3:",
        f"    extends: {{file: {base}, service: dashboard1}}",
        "    hostname: dashboard3",
        '    networks: !override {stack: {ipv4_address: "${DRILLS_NET_PREFIX}.53"}}',
        "    environment: {DRILLS_QUEUE_TYPE: classic}",
        "    labels: {io.drills.role: dashboard}",
        "  lb: {environment: {DRILLS_LB_BACKENDS: dashboard1 dashboard2 dashboard3}}",
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def overridden(docker_client, images, tmp_path_factory):
    """The reference stack file with the override, as `drill stack up -f override.yml` loads it."""
    override = tmp_path_factory.mktemp("knobs") / "override.yml"
    override.write_text(override_text(compose_file()))
    stack = ComposeProject.create(client=docker_client, images=images, profiles={"mongo": False},
                                  definition=load_stack(None, [override]))
    try:
        report = stack.up(timeout_s=300)
        sys.stdout.write(f"ready: {dict(report.ready_s)}, compose {report.compose_s:.1f} s\n")
        yield stack
    finally:
        assert stack.down() == Removal()  # compose removed it all, nothing by label, nothing left


def test_the_app_declared_its_queues_classic_and_drills_reads_their_node_as_leader(overridden):
    queues = {q.name: q for q in management(Legacy(overridden), overridden.snapshot()).queues()}
    assert {name: queues[name].type for name in QUEUES} == {name: "classic" for name in QUEUES}
    for name in QUEUES:
        q = queues[name]
        assert q.leader is not None and q.online == (q.leader,), q
        assert overridden.services(f"rabbitmq.leader@{name}") == [q.leader.partition("@")[2]]
        assert overridden.services(f"rabbitmq.follower@{name}") == []


def test_the_balancer_has_the_third_dashboard_in_rotation(overridden):
    assert overridden.services("dashboard") == ["dashboard1", "dashboard2", "dashboard3"]
    lb = read_status(overridden.snapshot(), overridden.definition.spec.components.http)
    assert lb.error is None
    assert [(b.server, b.status) for b in lb.backends] == [(f"dashboard{i}", "UP") for i in (1, 2, 3)]


def test_patroni_runs_asynchronous(overridden):
    for node in ("pg1", "pg2", "pg3"):
        host, port = overridden.endpoint(node, 8008)
        status, config = request_json("GET", f"http://{host}:{port}/config")
        assert status == 200 and config.get("synchronous_mode") is False, (node, config)


def test_rabbitmq_runs_the_partition_handling_of_the_override(overridden):
    for node in overridden.containers("rabbitmq.*"):
        code, out = node.exec_run(["rabbitmqctl", "eval", "application:get_env(rabbit, cluster_partition_handling)."])
        assert (code, out.decode().strip()) == (0, "{ok,autoheal}"), node.name


def test_the_effective_configuration_reads_back_every_knob_of_the_override(overridden):
    config = read_effective(overridden)
    assert config.stack["compose_files"][-1].endswith("override.yml"), config.stack
    pg, rq, lb = config.part("postgres"), config.part("rabbitmq"), config.part("balancer")
    assert pg.settings["patroni"]["synchronous_mode"] is False, pg
    assert {name: rq.settings["queues"][name]["type"] for name in QUEUES} == {name: "classic" for name in QUEUES}
    assert rq.settings["cluster_partition_handling"] == "autoheal", rq
    assert lb.state["backends"] == {f"dashboard{i}": "UP" for i in (1, 2, 3)}, lb
    assert config.part("instances").settings["defined"]["dashboard"] == 3
    text = dict(lines(config))
    assert "synchronous_mode off" in text["PostgreSQL"] and "cluster_partition_handling autoheal" in text["RabbitMQ"]
    assert "dashboard3 UP" in text["Balancer"]
