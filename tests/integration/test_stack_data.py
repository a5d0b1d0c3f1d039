"""The data tier of the reference stack, up for real: PostgreSQL/Patroni, RabbitMQ, (MongoDB)."""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from drills.components._rabbitmq_api import QUEUES
from drills.components._rabbitmq_topology import management
from drills.core.effective_config import ABSENT, READ, EffectiveConfig, changes
from drills.files.scenario import load_scenario
from drills.stack import ComposeProject
from drills.stack.effective import read_effective
from drills.stack.status import collect
from drills.stack.topology import Legacy

pytestmark = pytest.mark.docker

# What the app declares its queues with on the default stack (docker-compose.ha.yml, Queues).
QUEUE_ARGUMENTS = {"x-queue-type": "quorum"}


@pytest.fixture(scope="module")
def stack(docker_client):
    with ComposeProject.create(client=docker_client) as sp:
        yield sp


def leftovers(client, project):
    found = []
    for label in (f"io.drills.project={project}", f"com.docker.compose.project={project}"):
        selector = {"label": label}
        found += [f"container {c.name}" for c in client.containers.list(all=True, filters=selector)]
        found += [f"network {n.name}" for n in client.networks.list(filters=selector)]
        found += [f"volume {v.name}" for v in client.volumes.list(filters=selector)]
    return found


def pg_connect(stack, service, *, user="postgres", dbname="postgres"):
    import psycopg

    host, port = stack.endpoint(service, 5432)
    secrets = stack.settings.secrets
    password = secrets.pg_superuser_password if user == "postgres" else secrets.app_password
    return psycopg.connect(host=host, port=port, user=user, password=password, dbname=dbname, connect_timeout=3,
                           autocommit=True)


def test_postgres_has_one_leader_and_two_streaming_replicas(stack):
    [leader] = stack.services("postgres.leader")
    replicas = stack.services("postgres.replica")
    assert sorted([leader, *replicas]) == ["pg1", "pg2", "pg3"]
    with pg_connect(stack, leader) as conn:
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (False,)
        rows = conn.execute("SELECT application_name, state FROM pg_stat_replication").fetchall()
    assert sorted(rows) == [(r, "streaming") for r in replicas]
    for replica in replicas:
        with pg_connect(stack, replica) as conn:
            assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)


def test_app_database_is_writable_on_the_leader_and_replicated(stack):
    [leader] = stack.services("postgres.leader")
    token = f"t{time.time_ns()}"
    with pg_connect(stack, leader, user="app", dbname="app") as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS probe (token text PRIMARY KEY)")
        conn.execute("INSERT INTO probe VALUES (%s)", (token,))
    deadline = time.monotonic() + 10
    for replica in stack.services("postgres.replica"):
        with pg_connect(stack, replica, user="app", dbname="app") as conn:
            while True:
                try:
                    if conn.execute("SELECT 1 FROM probe WHERE token = %s", (token,)).fetchone():
                        break
                except Exception:  # the table itself may not have been replayed yet
                    pass
                assert time.monotonic() < deadline, f"{token} never reached {replica}"
                time.sleep(0.1)


def test_rabbitmq_has_three_running_members_and_led_quorum_queues(stack):
    api = management(Legacy(stack), stack.snapshot())
    assert [n.name for n in api.nodes() if n.running] == ["rabbit@rabbit1", "rabbit@rabbit2", "rabbit@rabbit3"]
    queues = {q.name: q for q in api.queues()}
    for name in QUEUES:
        q = queues[name]
        assert q.type == "quorum"
        assert q.leader in q.members
        assert q.members == ("rabbit@rabbit1", "rabbit@rabbit2", "rabbit@rabbit3")
    assert stack.services("rabbitmq.leader") == [queues["scheduled-runs"].leader.partition("@")[2]]


def test_a_client_declaring_the_queues_as_documented_publishes_with_confirms(stack):
    import pika

    host, port = stack.endpoint("rabbit2", 5672)
    credentials = pika.PlainCredentials("app", stack.settings.secrets.app_password)
    params = pika.ConnectionParameters(host, port, credentials=credentials, connection_attempts=3, retry_delay=1)
    conn = pika.BlockingConnection(params)
    try:
        ch = conn.channel()
        ch.confirm_delivery()
        for name in QUEUES:  # idempotent only with the very same arguments
            ch.queue_declare(name, durable=True, arguments=QUEUE_ARGUMENTS)
        # A queue of its own: the app tier's mailer consumes `notifications` and would take the probe.
        probe = f"drills-probe-{time.time_ns()}"
        ch.queue_declare(probe, durable=True, arguments=QUEUE_ARGUMENTS)
        body = probe.encode()
        ch.basic_publish("", probe, body, mandatory=True)
        for _ in range(50):
            method, _, got = ch.basic_get(probe, auto_ack=True)
            if method is not None:
                break
            time.sleep(0.1)
        ch.queue_delete(probe)
        assert got == body
    finally:
        conn.close()


def test_roles_resolve_to_the_projects_own_containers(stack):
    subnet = stack.settings.subnet
    for role in ("postgres.leader", "postgres.*", "etcd.*", "rabbitmq.*", "lb"):
        found = stack.containers(role)
        assert found, role
        for c in found:
            assert c.labels["io.drills.project"] == stack.project
            assert c.labels["io.drills.managed"] == "true"
            assert ipaddress.IPv4Address(stack.ip_of(c)) in subnet
    [etcd1] = stack.containers("etcd1")
    assert stack.ip_of(etcd1) == f"{stack.settings.net_prefix}.11"  # fixed addresses, reached without DNS


def test_status_reports_every_part(stack):
    st = collect(stack)
    assert {s.service for s in st.services} >= {"etcd1", "pg1", "pg2", "pg3", "rabbit1", "lb"}
    assert all(s.state == "running" and s.health == "healthy" for s in st.services)
    pg, rabbit, mongo = st.components["postgres"], st.components["rabbitmq"], st.components["mongo"]
    assert pg.leader is not None and len(pg.streaming()) == 2
    assert all(r.replay_lag_bytes >= 0 for r in pg.replication)
    assert len(rabbit.running()) == 3
    if why := stack.settings.not_run("mongo"):
        assert not mongo.ran and mongo.error == f"not run: {why}"
    else:
        assert mongo.primary is not None
    assert stack.settings.secrets.app_password not in str(st.to_json())


def settled(stack, deadline_s: float = 60):
    """RabbitMQ's management API fills a node's net_ticktime and config files in with its first
    node statistics, a few seconds after the node booted (under load, longer): until then those
    items are NOT READ, which is right. A freshly booted stack is read until they are there."""
    end = time.monotonic() + deadline_s
    while True:
        config = read_effective(stack)
        if not config.part("rabbitmq").not_read or time.monotonic() > end:
            return config
        time.sleep(2)


def test_the_effective_configuration_is_read_back_from_the_running_stack(stack):
    config = settled(stack)
    again = read_effective(stack)
    print(f"read_effective on the reference stack: {config.read_s:.2f} s, then {again.read_s:.2f} s")
    pg = config.part("postgres")
    assert pg.status == READ and pg.not_read == {}, pg
    assert pg.settings["patroni"]["synchronous_mode"] is True and pg.settings["patroni"]["ttl"] == 10
    assert pg.settings["pg_settings"]["synchronous_commit"] == "on" and len(pg.state["members"]) == 3
    rq = config.part("rabbitmq")
    # net_ticktime and the config files come with a node's statistics, which a node restarted by an
    # earlier test (or a loaded machine) may not have published yet: then those two items, and only
    # those, are NOT READ with why; never silently missing.
    late = {"net_ticktime_s", "cluster_partition_handling"}
    assert rq.status == READ and set(rq.not_read) <= late and all(rq.not_read.values()), rq
    for queue in QUEUES:
        assert rq.settings["queues"][queue]["type"] == "quorum" and rq.settings["queues"][queue]["members"] == 3
    if "cluster_partition_handling" not in rq.not_read:
        assert rq.settings["cluster_partition_handling"] == "pause_minority"
    if "net_ticktime_s" not in rq.not_read:
        assert rq.settings["net_ticktime_s"] == 10
    assert config.part("balancer").state == {"backends": {"dashboard1": "UP", "dashboard2": "UP"}}
    counts = config.part("instances")
    assert counts.settings["defined"]["postgres"] == counts.state["running"]["postgres"] == 3
    assert counts.settings["defined"]["dashboard"] == 2
    assert config.part("mongo").status == (ABSENT if stack.settings.not_run("mongo") else READ)
    assert changes(config, again) == [], "nothing changes the configuration between two reads"
    assert config.read_s is not None and config.read_s < 10
    assert stack.settings.secrets.pg_superuser_password not in json.dumps(config.to_json())


def test_a_drill_records_the_configuration_it_drills_in_its_journal(stack, tmp_path):
    from drills.run.runner import Drill

    path = Path(__file__).resolve().parents[2] / "scenarios" / "postgres-leader-kill.yaml"
    drill = Drill(load_scenario(path), path, stack, reports_dir=tmp_path, workload_factory=None,
                  progress=None)
    try:
        recorded = EffectiveConfig.from_json(drill.journal.environment["effective"])
        assert recorded.part("postgres").settings["patroni"]["synchronous_mode"] is True
        assert recorded.part("rabbitmq").settings["queues"]["scheduled-runs"]["type"] == "quorum"
        drill._compare_effective()
        assert drill.journal.environment["effective_after"]["changes"] == []
    finally:
        drill.history.close()


def test_drill_stack_status_shows_the_effective_configuration(stack):
    def drill(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "drills", "stack", "status", "--project", stack.project, *args],
                              capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "400"})

    settled(stack)  # node statistics in: every part read (see `settled`)
    done = drill()
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "Effective configuration (read back from the running system in" in out, out
    assert "cluster_partition_handling pause_minority" in out or "not read" in out, out
    for piece in ("synchronous_mode on", "ttl 10 s", "loop_wait 2 s",
                  "scheduled-runs quorum (3 members", "notifications quorum (3 members",
                  "lb, backend dashboards: dashboard1 UP, dashboard2 UP", "postgres 3, rabbitmq 3"):
        assert piece in out, (piece, out)
    doc = json.loads(drill("--json").stdout)
    assert doc["effective"]["parts"]["postgres"]["settings"]["patroni"]["synchronous_mode"] is True


def test_ports_are_published_on_localhost_only(stack):
    for c in stack.client.containers.list(filters={"label": f"io.drills.project={stack.project}"}):
        for bindings in (c.attrs["NetworkSettings"]["Ports"] or {}).values():
            for b in bindings or []:
                assert b["HostIp"] == "127.0.0.1", (c.name, b)


def test_a_killed_and_restarted_container_keeps_its_published_port(stack):
    before = stack.endpoint("lb", 8080)
    [lb] = stack.containers("lb")
    lb.kill()
    lb.start()
    assert stack.endpoint("lb", 8080) == before
    assert before[1] == stack.settings.ports["DRILLS_PORT_LB_8080"]


def test_two_stacks_run_side_by_side_and_down_leaves_nothing(stack, docker_client):
    second = ComposeProject.create(client=docker_client)
    try:
        with second:
            assert second.project != stack.project
            assert not second.settings.subnet.overlaps(stack.settings.subnet)
            assert second.endpoint("pg1", 5432) != stack.endpoint("pg1", 5432)
            assert len(second.services("postgres.replica")) == 2
            # the first stack is untouched by the second one's boot
            assert len(stack.services("postgres.replica")) == 2
    finally:
        assert leftovers(docker_client, second.project) == []
