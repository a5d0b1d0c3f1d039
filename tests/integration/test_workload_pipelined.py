"""The pipelined RabbitMQ publisher against a real stack: its rate, its outcomes, and no confirmed
message lost (confirmed versus consumed after the drain)."""

from __future__ import annotations

import time

import pytest

from drills.stack import ComposeProject
from drills.workload.base import clock_from
from drills.workload.endpoints import group_endpoints
from drills.workload.rabbitmq import PUBLISH_SIGNAL, RabbitSignal, RabbitTarget
from drills.workload.rabbitmq_pipelined import PipelinedPublisher
from tests.integration.recording import Ops, wait_for

pytestmark = pytest.mark.docker

RATE = 50.0
SECONDS = 5.0


@pytest.fixture(scope="module")
def stack(docker_client):
    with ComposeProject.create(client=docker_client, profiles={"mongo": False}) as sp:
        yield sp


def test_pipelined_publisher_at_50_per_s_loses_no_confirmed_message(stack, record_property):
    ops = Ops()
    clock = clock_from(time.monotonic())
    target = RabbitTarget(group_endpoints(stack, "rabbitmq", 5672), stack.settings.secrets.app_password,
                          "test-pipelined", "app")
    rabbit = RabbitSignal(target, ops, clock)
    publisher = PipelinedPublisher(target, rabbit.setup, ops, clock, rate=RATE)
    rabbit.consumer.start()
    began = clock()
    publisher.start()
    try:
        wait_for(publisher.first_ok.is_set, 30, "a first confirm")
        started = clock()
        time.sleep(SECONDS)
        ended = clock()
    finally:
        stuck = publisher.stop()
    drained = rabbit.drain()
    rabbit.close()

    published = ops.of(PUBLISH_SIGNAL)
    assert stuck == []
    assert publisher.summary()["ops"] == len(published)  # every publish resolved into one op
    assert len({o.value for o in published}) == len(published)
    mine = [o for o in published if started <= o.start < ended]
    ok = [o for o in mine if o.ok]
    record_property("pipelined_publish", {"ops": len(mine), "ok": len(ok), **publisher.summary()})
    print(f"\npipelined publish: {len(mine)} ops in {ended - started:.2f} s, {len(ok)} ok, {publisher.summary()}")
    # One publish per slot, whatever the machine's speed: every slot up to the last publish was
    # either published on or counted as skipped (a loop late on a loaded machine skips, it does not
    # burst), and never more slots than the time held.
    slots = publisher.summary()["ops"] + publisher.summary()["skipped_slots"]
    last = max(o.start for o in published)
    assert (last - began) * RATE - 2 <= slots <= (last - began) * RATE + 2, publisher.summary()
    assert ok
    assert len(ok) >= 0.95 * len(mine), [o.error for o in mine if not o.ok][:5]
    assert max(o.end - o.start for o in ok) < target.op_timeout_s

    confirmed = {o.value for o in published if o.ok}
    assert drained.emptied
    assert confirmed <= set(drained.consumed)  # no confirmed message lost
    assert set(drained.consumed) <= {o.value for o in published}  # nothing this test did not publish
    assert len(drained.consumed) == len(set(drained.consumed))  # no duplicates without a fault
