"""The workload's clients against a real stack: rates, outcomes, read-back, drain, and a leader kill."""

from __future__ import annotations

import time

import pytest

from drills.checkers.availability import outage_windows
from drills.core.history import Outcome
from drills.files.scenario import Scenario
from drills.stack import ComposeProject
from drills.stack.readiness import wait_ready
from drills.workload.base import SignalRunner, clock_from
from drills.workload.endpoints import group_endpoints
from drills.workload.suite import build_workload
from tests.integration.recording import Ops, wait_for

pytestmark = pytest.mark.docker

RATE = 50.0


@pytest.fixture(scope="module")
def stack(docker_client):
    with ComposeProject.create(client=docker_client, profiles={"mongo": False}) as sp:
        yield sp


def scenario(workload: dict[str, dict[str, float]]) -> Scenario:
    return Scenario.model_validate({
        "id": "workload-test", "title": "t", "policy": "p", "workload": workload,
        "steps": [{"fault": "kill", "target": "postgres.leader"}],
        "expectations": [{"checker": "steady-state", "why": "w"}],
    })


def test_postgres_and_rabbitmq_clients_at_50_ops_per_s(stack):
    ops = Ops()
    t0 = time.monotonic()
    workload = build_workload(scenario({"postgres.write": {"rate": RATE}, "rabbitmq.publish": {"rate": RATE}}),
                              stack, ops, t0)
    began = time.monotonic()
    workload.start()
    wait_for(lambda: workload.first_ok() == {"postgres.write", "rabbitmq.publish"}, 30, "a first ok op")
    started = time.monotonic()
    time.sleep(5)
    workload.stop()
    assert workload.stuck == []
    assert workload.drain() is True
    reads = workload.final_reads()

    summary = workload.summary()
    for signal in ("postgres.write", "rabbitmq.publish"):
        mine = [o for o in ops.of(signal) if o.start >= started - t0]
        ok = [o for o in mine if o.ok]
        assert ok and len(ok) >= 0.95 * len(mine), (signal, [o.error for o in mine if not o.ok][:5])
        # Whatever the machine's speed: every slot of the signal's grid up to its last op was either
        # served by an op or counted as skipped (an op that outlasts its 20 ms slot on a loaded
        # machine skips the slots it overran instead of queueing them), and there were never more
        # slots than the time held (no burst). bench/workload_cost.json holds the achieved rates.
        every = ops.of(signal)
        assert summary[signal]["ops"] == len(every)  # every op recorded, once
        slots = summary[signal]["ops"] + summary[signal]["skipped_slots"]
        first_slot = began - t0
        last_start, last_end = max(o.start for o in every), max(o.end for o in every)
        assert (last_start - first_slot) * RATE - 2 <= slots <= (last_end - first_slot) * RATE + 2, summary[signal]

    writes = ops.of("postgres.write")
    read = reads["postgres.write"]
    assert read is not None
    assert {o.value for o in writes if o.ok} <= set(read)
    assert set(read) <= {o.value for o in writes}  # nothing this drill did not write (the table was emptied)

    confirmed = {o.value for o in ops.of("rabbitmq.publish") if o.ok}
    consumed = [o.value for o in ops.of("rabbitmq.consume") if o.ok]
    assert confirmed <= set(consumed)
    assert len(consumed) == len(set(consumed))  # no duplicates without a fault


def test_postgres_leader_kill_fails_writes_then_recovers_without_losing_one(stack, record_property):
    from drills.workload.postgres import PostgresSignal, PostgresTarget

    ops = Ops()
    t0 = time.monotonic()
    clock = clock_from(t0)
    pg = PostgresSignal(PostgresTarget(group_endpoints(stack, "postgres", 5432), stack.settings.secrets.app_password,
                                      "app", "app"))
    runner = SignalRunner("postgres.write", pg.client, ops, clock, rate=RATE)
    runner.start()
    try:
        wait_for(runner.first_ok.is_set, 30, "a first ok write")
        time.sleep(3)
        [leader] = stack.containers("postgres.leader")
        killed_at = clock()
        leader.kill()

        def recovered() -> bool:
            after = [o for o in ops.of("postgres.write") if o.start > killed_at]
            return any(not o.ok for o in after) and len(after) > 3 and all(o.ok for o in after[-50:])

        wait_for(recovered, 60, "writes recovering on a new leader")
    finally:
        runner.stop()
    leader.start()  # the old leader rejoins (pg_rewind); the next test gets a whole cluster
    wait_ready(stack, timeout_s=120)
    read = pg.final_read()
    pg.close()

    writes = ops.of("postgres.write")
    after_kill = [o for o in writes if o.start >= killed_at]
    windows = [w for w in outage_windows(writes) if w.end >= killed_at]
    assert windows, "the kill caused no failed write"
    outage = max(w.duration for w in windows)
    lost = sorted({o.value for o in writes if o.ok} - read)
    counts = {k.value: sum(1 for o in after_kill if o.outcome is k) for k in Outcome}
    record_property("write_outage_s", round(outage, 3))
    record_property("after_kill", counts)
    print(f"\nleader kill: write outage {outage:.2f} s; ops after the kill {counts}; lost {len(lost)}")
    assert lost == []
    assert outage < 30
    assert after_kill[-1].ok


def test_rabbitmq_queue_leader_kill_loses_no_confirmed_message(stack, record_property):
    from drills.workload.rabbitmq import RabbitSignal, RabbitTarget

    ops = Ops()
    t0 = time.monotonic()
    clock = clock_from(t0)
    target = RabbitTarget(group_endpoints(stack, "rabbitmq", 5672), stack.settings.secrets.app_password, "test-kill",
                          "app")
    rabbit = RabbitSignal(target, ops, clock)
    runner = SignalRunner("rabbitmq.publish", rabbit.client, ops, clock, rate=RATE, processes=3)
    rabbit.consumer.start()
    runner.start()
    try:
        wait_for(runner.first_ok.is_set, 30, "a first confirm")
        time.sleep(2)
        [node] = stack.containers("rabbitmq.leader@drill-events")
        killed_at = clock()
        node.kill()
        time.sleep(8)
    finally:
        runner.stop()
    drained = rabbit.drain()
    rabbit.close()
    node.start()
    wait_ready(stack, timeout_s=180)

    published = ops.of("rabbitmq.publish")
    confirmed = {o.value for o in published if o.ok}
    lost = confirmed - set(drained.consumed)
    windows = [w for w in outage_windows(published) if w.end >= killed_at]
    longest = max((w.duration for w in windows), default=0.0)
    record_property("publish_outage_s", round(longest, 3))
    print(f"\nqueue leader kill: longest publish outage {longest:.2f} s; "
          f"{len(confirmed)} confirmed, {len(lost)} lost, "
          f"{len(drained.consumed) - len(set(drained.consumed))} duplicates")
    assert drained.emptied
    assert lost == set()
    assert any(o.ok for o in published if o.start > killed_at + 1)  # publishing went on
