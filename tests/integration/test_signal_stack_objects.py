"""Signals on the stack's own objects, on a real stack: rabbitmq.publish publishes into the queue the
stack file names without redeclaring or purging it, and postgres.write writes into the database it
names; one the stack lacks is the stack file's mistake (exit 2) before anything runs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from drills.components.base import Credential
from drills.core.errors import ScenarioError
from drills.stack import ComposeProject
from drills.stack.definition import StackDefinition
from drills.stack.env import StackSettings
from drills.stack.services import ServiceInfo
from drills.workload.base import clock_from
from drills.workload.endpoints import group_endpoints, published
from drills.workload.registry import kind_of
from drills.workload.signal import SignalContext
from tests.integration.recording import Ops, wait_for
from tests.stand_ins import reference_definition

pytestmark = pytest.mark.docker

QUEUE = "ops-drills"
# What the stack's application declares it with: an argument Drills never uses, so that a
# redeclaration by Drills would either fail (PRECONDITION_FAILED) or show in the queue's arguments.
ARGUMENTS = {"x-queue-type": "quorum", "x-max-length-bytes": 50_000_000}
EARLIER_RUN = "an-earlier-drill"


@pytest.fixture(scope="module")
def stack(docker_client):
    with ComposeProject.create(client=docker_client, profiles={"mongo": False}) as sp:
        yield sp


class Drilled:
    """The live stack, with another stack file: what a signal sees of it."""

    def __init__(self, stack: ComposeProject, definition: StackDefinition) -> None:
        self._stack = stack
        self.definition = definition

    @property
    def settings(self) -> StackSettings:
        return self._stack.settings

    def snapshot(self) -> dict[str, ServiceInfo]:
        return self._stack.snapshot()

    def credential(self, ref: Credential) -> str:
        return self._stack.credential(ref)


def with_queue(queue: str) -> StackDefinition:
    return reference_definition(rabbitmq={"queues": ["scheduled-runs", "notifications", "drill-events", queue],
                                          "signal_queue": queue})


@pytest.fixture
def channel(stack) -> Iterator[Any]:
    import pika

    host, port = group_endpoints(stack, "rabbitmq", 5672)[0]
    conn = pika.BlockingConnection(pika.ConnectionParameters(
        host, port, credentials=pika.PlainCredentials("app", stack.settings.secrets.app_password),
        connection_attempts=3, retry_delay=1))
    try:
        yield conn.channel()
    finally:
        conn.close()


def queue_arguments(stack, name: str) -> dict[str, Any]:
    from drills.components._rabbitmq_topology import management
    from drills.stack.topology import Legacy

    doc = management(Legacy(stack), stack.snapshot()).request("GET", f"queues/%2F/{name}")
    return dict(doc["arguments"])


def test_rabbitmq_publish_uses_the_stack_s_queue_as_it_is(stack, channel, record_property):
    import pika

    channel.queue_declare(QUEUE, durable=True, arguments=ARGUMENTS)  # as the stack's application does
    # A message an earlier drill left, with the id this drill's first message will have.
    channel.basic_publish("", QUEUE, b"1", pika.BasicProperties(message_id="1", headers={"x-drill-run": EARLIER_RUN}))
    ops = Ops()
    context = SignalContext(Drilled(stack, with_queue(QUEUE)), ops, clock_from(time.monotonic()), run="this-drill")
    kind = kind_of("rabbitmq.publish")
    driven = kind.drive(kind.model(rate=50.0), context)
    try:
        driven.runner.start()  # publishers alone first: what they leave shows whether the queue was purged
        wait_for(driven.runner.first_ok.is_set, 30, "a first confirm")
        time.sleep(2.0)
        driven.runner.stop()
        confirmed = {o.value for o in ops.of("rabbitmq.publish") if o.ok}
        held = channel.queue_declare(QUEUE, passive=True).method.message_count
        assert held == len(confirmed) + 1, "the earlier drill's message is still there: nothing was purged"
        assert driven.before_start is not None and driven.drain is not None
        driven.before_start()  # the consumer
        assert driven.drain()
    finally:
        if driven.close is not None:
            driven.close()
    consumed = [o.value for o in ops.of("rabbitmq.consume") if o.ok]
    record_property("stack_queue", {"confirmed": len(confirmed), "consumed": len(consumed), "held": held})
    assert confirmed and confirmed <= set(consumed)  # no confirmed message lost
    assert len(consumed) == len(set(consumed)), "the earlier drill's message 1 was not counted as this drill's"
    assert queue_arguments(stack, QUEUE) == ARGUMENTS  # neither redeclared nor changed
    assert channel.queue_declare(QUEUE, passive=True).method.message_count == 0


def test_a_signal_queue_the_stack_lacks_is_an_error_before_anything_runs(stack, channel):
    import pika

    context = SignalContext(Drilled(stack, with_queue("not-declared")), Ops(), time.monotonic, run="this-drill")
    kind = kind_of("rabbitmq.publish")
    with pytest.raises(ScenarioError, match=r"'not-declared' that the stack file .*stack.yaml names .*404"):
        kind.drive(kind.model(), context)
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="NOT_FOUND"):
        channel.queue_declare("not-declared", passive=True)  # the check declared nothing


def test_the_pipelined_publisher_waits_between_attempts_while_the_stack_s_queue_is_missing(stack):
    """Every set-up fails at the passive declare: no tight reconnect loop against the broker."""
    from drills.workload.rabbitmq import QueueSetup, RabbitTarget
    from drills.workload.rabbitmq_pipelined import RECONNECT_PAUSE_S, PipelinedPublisher

    target = RabbitTarget(group_endpoints(stack, "rabbitmq", 5672), stack.settings.secrets.app_password, "this-drill",
                          "app", queue="not-declared", stack_queue=True)
    ops = Ops()
    publisher = PipelinedPublisher(target, QueueSetup(target.queue, passive=True), ops, clock_from(time.monotonic()),
                                   rate=50.0)
    publisher.start()
    time.sleep(2.0)
    assert publisher.stop() == []
    published = ops.of("rabbitmq.publish")
    assert published and not any(o.ok for o in published)
    assert publisher.summary()["reconnects"] <= 2.0 / RECONNECT_PAUSE_S + 5, publisher.summary()


def test_postgres_write_writes_into_the_stack_s_database(stack):
    import psycopg

    from drills.workload.postgres import TABLE

    [leader] = stack.services("postgres.leader")
    found = published(stack, leader, 5432)
    assert found is not None
    host, port = found
    su = {"user": "postgres", "password": stack.settings.secrets.pg_superuser_password}
    with psycopg.connect(host=host, port=port, dbname="postgres", autocommit=True, **su) as conn:
        conn.execute("CREATE DATABASE ledger OWNER app")
    ops = Ops()
    context = SignalContext(Drilled(stack, reference_definition(postgres={"database": "ledger"})), ops,
                            clock_from(time.monotonic()), run="this-drill")
    kind = kind_of("postgres.write")
    driven = kind.drive(kind.model(rate=20.0), context)
    try:
        driven.runner.start()
        wait_for(driven.runner.first_ok.is_set, 30, "a first write")
        time.sleep(0.5)
        driven.runner.stop()
        assert driven.final_read is not None
        read = driven.final_read()
    finally:
        if driven.close is not None:
            driven.close()
    written = {o.value for o in ops.of("postgres.write") if o.ok}
    assert written and written <= set(read)
    with psycopg.connect(host=host, port=port, dbname="ledger", autocommit=True, **su) as conn:
        rows = {int(r[0]) for r in conn.execute(f"SELECT seq FROM {TABLE}")}
    assert written <= rows

    missing = SignalContext(Drilled(stack, reference_definition(postgres={"database": "nowhere"})), Ops(),
                            time.monotonic, run="this-drill")
    with pytest.raises(ScenarioError, match=r"database 'nowhere'.*database \"nowhere\" does not exist"):
        kind.drive(kind.model(), missing)


def test_the_reference_stack_s_signal_queue_is_the_app_s_drill_events(stack):
    """stacks/reference/stack.yaml names the app's drill-events: the signal runs on it as the app
    declared it (the app's DRILLS_QUEUE_TYPE), and leaves its arguments as they were."""
    before = queue_arguments(stack, "drill-events")
    ops = Ops()
    context = SignalContext(stack, ops, clock_from(time.monotonic()), run="this-drill")
    kind = kind_of("rabbitmq.publish")
    driven = kind.drive(kind.model(rate=50.0), context)
    try:
        assert driven.before_start is not None and driven.drain is not None
        driven.before_start()
        driven.runner.start()
        wait_for(driven.runner.first_ok.is_set, 30, "a first confirm")
        time.sleep(1.0)
        driven.runner.stop()
        assert driven.drain()
    finally:
        if driven.close is not None:
            driven.close()
    confirmed = {o.value for o in ops.of("rabbitmq.publish") if o.ok}
    assert confirmed and confirmed <= {o.value for o in ops.of("rabbitmq.consume") if o.ok}
    assert queue_arguments(stack, "drill-events") == before
