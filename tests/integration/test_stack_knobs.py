"""The reference stack's operator knobs are service environment variables: a Compose override
file changes them without any edit of the project. Each knob is read back from the running system."""

from __future__ import annotations

import docker.errors
import pytest

from drills.provision.images import ensure_images

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
