"""postgres.read on the reference stack: reads served by a replica follow what postgres.write
writes, and a reader whose replica is killed goes on reading from the other one."""

from __future__ import annotations

import time

import psycopg
import pytest

from drills.files.scenario import Scenario
from drills.stack import ComposeProject
from drills.stack.readiness import wait_ready
from drills.workload.endpoints import group_endpoints
from drills.workload.postgres import PostgresTarget
from drills.workload.postgres_read import ReadTarget
from drills.workload.suite import DrillWorkload, build_workload
from tests.integration.recording import Ops, wait_for

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def stack(docker_client):
    with ComposeProject.create(client=docker_client, profiles={"mongo": False}) as sp:
        yield sp


def scenario(read_from: str) -> Scenario:
    return Scenario.model_validate({
        "id": "read-test", "title": "t", "policy": "p",
        "workload": {"postgres.write": {"rate": 50}, "postgres.read": {"rate": 20, "read_from": read_from}},
        "steps": [{"fault": "kill", "target": "postgres.replica[0]"}],
        "expectations": [{"checker": "steady-state", "why": "w"}],
    })


def started(stack: ComposeProject, read_from: str, ops: Ops) -> tuple[DrillWorkload, float]:
    """The workload running, with its t0 (the drill clock is `time.monotonic() - t0`)."""
    t0 = time.monotonic()
    workload = build_workload(scenario(read_from), stack, ops, t0)
    workload.start()
    wait_for(lambda: workload.first_ok() == {"postgres.write", "postgres.read"}, 60, "a first ok write and read")
    return workload, t0


def serving_node(stack: ComposeProject, read_from: str) -> tuple[str, bool]:
    """The service a reader connects to now, and whether it is a replica (in recovery)."""
    nodes = PostgresTarget(group_endpoints(stack, "postgres", 5432), stack.settings.secrets.app_password, "app", "app")
    with psycopg.connect(ReadTarget(nodes, read_from).conninfo(), autocommit=True) as conn:
        row = conn.execute("SELECT host(inet_server_addr()), pg_is_in_recovery()").fetchone()
    assert row is not None
    [service] = [name for name, info in stack.snapshot().items() if info.ip == row[0]]
    return service, bool(row[1])


def test_reads_on_a_replica_follow_the_writes(stack):
    ops = Ops()
    workload, _ = started(stack, "replica-first", ops)
    time.sleep(4)
    workload.stop()
    assert workload.stuck == []
    reads = workload.final_reads()

    assert "postgres.read" not in reads  # a read changes nothing: no final read
    assert serving_node(stack, "replica-first")[1], "a replica is up: reads go there, not to the leader"
    readings, writes = ops.of("postgres.read"), ops.of("postgres.write")
    first_ok = next(i for i, r in enumerate(readings) if r.ok)
    steady = readings[first_ok:]
    ok = [r for r in steady if r.ok]
    assert len(ok) >= 0.95 * len(steady), [r.error for r in steady if not r.ok][:5]
    assert all(r.kind == "read" for r in readings)
    # Nothing phantom (a fresh table): each seq a read saw was written by an op begun before the read ended.
    began = {w.value: w.start for w in writes}
    seen = [r for r in ok if r.value is not None]
    assert seen, "the replica never showed a write"
    assert all(r.value in began and began[r.value] <= r.end for r in seen)
    # The replica follows: with one connection and no fault, what a read sees never goes back, and it moves on.
    values = [int(r.value) for r in seen if isinstance(r.value, int)]
    assert len(values) == len(seen)
    assert values == sorted(values) and values[-1] > values[0]


def test_a_reader_whose_replica_is_killed_reads_from_the_other(stack, record_property):
    ops = Ops()
    workload, t0 = started(stack, "replica", ops)
    victim, replica = serving_node(stack, "replica")
    assert replica
    [container] = stack.containers(victim)
    try:
        time.sleep(1)
        killed_at = time.monotonic()
        container.kill()

        def resumed() -> bool:
            reads = [r for r in ops.of("postgres.read") if r.start > killed_at - t0]
            writes = [w for w in ops.of("postgres.write") if w.start > killed_at - t0]
            return any(not r.ok for r in reads) and any(r.ok for r in reads[-5:]) and any(w.ok for w in writes)

        wait_for(resumed, 60, "reads resuming on the other replica, and writes going on")
        recovered_s = time.monotonic() - killed_at
        now_on, still_replica = serving_node(stack, "replica")
    finally:
        workload.stop()
        workload.final_reads()
        container.start()
    wait_ready(stack, timeout_s=120)

    failed = [r for r in ops.of("postgres.read") if r.start > killed_at - t0 and not r.ok]
    record_property("read_recovered_s", round(recovered_s, 3))
    print(f"\nreplica {victim} killed: reads back on {now_on} within {recovered_s:.2f} s, {len(failed)} failed reads")
    assert failed and all(r.value is None and r.error for r in failed)
    assert now_on != victim and still_replica
