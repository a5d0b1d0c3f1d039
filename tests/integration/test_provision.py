"""Provisioning against the real engine: smoke container, cached image builds, doctor."""

import json
import subprocess
import sys

import pytest

from drills.provision import base_image
from drills.provision.images import ImageSpec, ensure_images, plan

pytestmark = pytest.mark.docker


class Recorder:
    def __init__(self):
        self.lines: list[str] = []

    def step(self, message):
        self.lines.append(f"step {message}")

    def ok(self, message):
        self.lines.append(f"ok {message}")

    def detail(self, message):
        self.lines.append(f"detail {message}")


def test_smoke_container_answers(docker_client):
    done = subprocess.run([sys.executable, "-m", "drills", "smoke"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("PASS smoke")
    leftovers = docker_client.containers.list(all=True, filters={"label": "io.drills.purpose=smoke"})
    assert leftovers == []


def test_image_is_built_once_and_rebuilt_when_its_inputs_change(docker_client, tmp_path):
    ctx = tmp_path / "probe"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(
        "ARG BASE_IMAGE=debian:bookworm-slim\nFROM ${BASE_IMAGE}\nCOPY msg /msg\nCMD [\"cat\", \"/msg\"]\n")
    (ctx / "msg").write_text("first\n")
    spec = ImageSpec("test-probe", ctx)
    base = base_image.resolve(docker_client)
    assert base is not None, "run `drill setup` first"
    built: list[str] = []
    try:
        env = ensure_images(docker_client, Recorder(), base=base, specs=[spec])
        tag = env["DRILLS_IMAGE_TEST_PROBE"]
        built.append(tag)
        assert docker_client.containers.run(tag, remove=True, network_mode="none") == b"first\n"

        again = Recorder()
        assert ensure_images(docker_client, again, base=base, specs=[spec]) == env
        assert not any(line.startswith("step building") for line in again.lines), again.lines

        (ctx / "msg").write_text("second\n")
        [planned] = plan(docker_client, base, [spec])
        assert planned.tag != tag and not planned.present
        env2 = ensure_images(docker_client, Recorder(), base=base, specs=[spec])
        built.append(env2["DRILLS_IMAGE_TEST_PROBE"])
        assert docker_client.containers.run(built[-1], remove=True, network_mode="none") == b"second\n"
    finally:
        for tag in [*built, "drills/test-probe:latest"]:
            subprocess.run(["docker", "rmi", "-f", tag], capture_output=True)


def test_doctor_is_ready_after_setup(docker_client):
    done = subprocess.run([sys.executable, "-m", "drills", "doctor", "--json"], capture_output=True,
                          text=True, timeout=120)
    report = json.loads(done.stdout)
    problems = [c for c in report["checks"] if c["status"] == "missing"]
    assert done.returncode == 0 and report["ready"], problems
    mongo = next(c for c in report["checks"] if c["name"] == "mongo image")
    assert mongo["status"] in {"ok", "warn"}
