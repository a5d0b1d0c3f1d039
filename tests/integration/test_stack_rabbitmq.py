"""`drill stack up`, as a user runs it, gives app queues every client can use: RabbitMQ 3.10
loses a quorum queue declared while a member is still booting (drills.components._rabbitmq_api), so the
app's clients, which own the queues, must declare them only after every member has finished
booting, and they come out with a live member on every node and a leader; Drills declares none."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from drills.components._rabbitmq_api import QUEUES, queue_problem
from drills.components._rabbitmq_topology import management
from drills.stack import ComposeProject
from drills.stack.env import new_project_name
from drills.stack.topology import Legacy, members
from tests.rabbit_logs import declared_too_early

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]


def drill(*args: str, timeout_s: float = 1200) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "drills", *args], cwd=ROOT, capture_output=True, text=True,
                          env=os.environ.copy(), timeout=timeout_s, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def booted(docker_client):
    project = new_project_name()
    try:
        # A generous readiness timeout: under heavy load etcd or PostgreSQL can miss the default
        # one, and the fresh boot that follows would replace the broker logs this module reads.
        up = drill("stack", "up", "--project", project, "--timeout", "300")
        assert up.returncode == 0, up.stdout + up.stderr
        yield ComposeProject.attach(project, docker_client), up
    finally:
        down = drill("stack", "down", "--project", project)
        assert down.returncode == 0, down.stdout + down.stderr


def test_no_boot_lost_a_queue(booted):
    _, up = booted
    # `up` boots a stack afresh when one does not get ready, and says why on stderr (the laggards'
    # last log lines): a lost queue shows there as the app services' 541s, or as queue members
    # without their Raft servers.
    assert "INTERNAL_ERROR" not in up.stderr and "members not running" not in up.stderr, up.stderr


def test_the_queues_were_declared_only_after_every_member_had_finished_booting(booted):
    stack, _ = booted
    logs = {c.labels["com.docker.compose.service"]: c.logs().decode(errors="replace")
            for c in stack.containers("rabbitmq.*")}
    assert sorted(logs) == ["rabbit1", "rabbit2", "rabbit3"]
    assert declared_too_early(logs, QUEUES) == []


def test_the_app_declared_every_queue_itself(booted):
    stack, _ = booted
    logs = "".join(c.logs().decode(errors="replace") for c in stack.containers("clients"))
    assert {name: f"rabbitmq: declared {name} " in logs for name in QUEUES} == {name: True for name in QUEUES}


def test_every_queue_has_a_live_member_on_every_node_and_a_leader(booted):
    stack, _ = booted
    api = management(Legacy(stack), stack.snapshot())
    running = [n.name for n in api.nodes() if n.running]
    assert running == ["rabbit@rabbit1", "rabbit@rabbit2", "rabbit@rabbit3"]
    queues = {q.name: q for q in api.queues()}
    assert {name: queue_problem(queues.get(name), running) for name in QUEUES} == {name: None for name in QUEUES}


def test_a_client_can_consume_every_app_queue_through_every_node(booted):
    import pika

    stack, _ = booted
    credentials = pika.PlainCredentials("app", stack.settings.secrets.app_password)
    for node in members(stack, stack.snapshot(), "rabbitmq"):
        host, port = stack.endpoint(node, 5672)
        conn = pika.BlockingConnection(pika.ConnectionParameters(host, port, credentials=credentials,
                                                                 connection_attempts=3, retry_delay=1))
        try:
            ch = conn.channel()
            ch.basic_qos(prefetch_count=1)  # a message it gets is requeued when the channel closes
            for name in QUEUES:
                # A queue whose Raft servers are gone fails right here: 541 INTERNAL_ERROR.
                tag = ch.basic_consume(name, lambda *_: None)
                ch.basic_cancel(tag)
        finally:
            conn.close()
