"""Parsing what Docker, Patroni, RabbitMQ and MongoDB answer (recorded shapes, no containers)."""

import inspect
from datetime import datetime, timedelta

import pytest

import drills.stack
from drills.components._mongo_status import parse_repl_status, primary_of
from drills.components._postgres_cluster import (
    PostgresStatus,
    StreamingReplica,
    leader_of,
    parse_cluster,
    parse_replication,
)
from drills.components._rabbitmq_api import node_service, parse_nodes, parse_queues
from drills.core.wait import Hopeless, Observation, Wait, WaitTimeout
from drills.stack.readiness import containers_healthy
from drills.stack.services import parse_summary

# GET /cluster of Patroni 3.0.2 during a normal run
PATRONI_CLUSTER = {"members": [
    {"name": "pg2", "role": "replica", "state": "running", "api_url": "http://172.30.7.22:8008/patroni",
     "host": "172.30.7.22", "port": 5432, "timeline": 1, "lag": 0},
    {"name": "pg1", "role": "leader", "state": "running", "api_url": "http://172.30.7.21:8008/patroni",
     "host": "172.30.7.21", "port": 5432, "timeline": 1},
    {"name": "pg3", "role": "replica", "state": "starting", "host": "172.30.7.23", "port": 5432, "lag": "unknown"},
]}


def test_patroni_cluster():
    members = parse_cluster(PATRONI_CLUSTER)
    assert [m.name for m in members] == ["pg1", "pg2", "pg3"]
    assert leader_of(members) == "pg1"
    assert members[1].lag_bytes == 0 and members[2].lag_bytes is None
    assert members[0].timeline == 1


def test_every_spelling_of_leader_is_a_leader_and_two_leaders_are_none():
    old = parse_cluster({"members": [{"name": "a", "role": "master"}, {"name": "b", "role": "replica"}]})
    assert leader_of(old) == "a"
    split = parse_cluster({"members": [{"name": "a", "role": "primary"}, {"name": "b", "role": "leader"}]})
    assert leader_of(split) is None
    assert leader_of(parse_cluster({})) is None


def test_pg_stat_replication_rows():
    rows = [("pg2", "172.30.7.22", "streaming", 0, 128, 0.004), ("pg3", "", "catchup", 4096, 8192, None)]
    replicas = parse_replication(rows)
    assert replicas[0] == StreamingReplica("pg2", "172.30.7.22", "streaming", 0, 128, 0.004)
    status = PostgresStatus("pg1", (), tuple(replicas))
    assert status.streaming() == ["pg2"]


# GET /api/nodes and /api/queues/%2F of RabbitMQ 3.10 (columns as requested by Management)
def test_rabbitmq_nodes_and_quorum_queues():
    nodes = parse_nodes([{"name": "rabbit@rabbit2", "running": False}, {"name": "rabbit@rabbit1", "running": True}])
    assert [(n.name, n.running, n.service) for n in nodes] == [("rabbit@rabbit1", True, "rabbit1"),
                                                               ("rabbit@rabbit2", False, "rabbit2")]
    queues = parse_queues([
        {"name": "scheduled-runs", "type": "quorum", "leader": "rabbit@rabbit2", "node": "rabbit@rabbit2",
         "members": ["rabbit@rabbit3", "rabbit@rabbit1", "rabbit@rabbit2"], "online": ["rabbit@rabbit2"],
         "messages": 4},
        {"name": "legacy", "type": "classic", "node": "rabbit@rabbit1", "state": "running", "messages": 2},
    ])
    assert [q.name for q in queues] == ["legacy", "scheduled-runs"]
    legacy, runs = queues
    assert runs.leader == "rabbit@rabbit2" and runs.members[0] == "rabbit@rabbit1" and runs.messages == 4
    assert runs.online == ("rabbit@rabbit2",)
    assert runs.followers() == ["rabbit@rabbit1", "rabbit@rabbit3"]
    assert node_service("rabbit@rabbit3") == "rabbit3"
    # A classic queue (3.10 gives its `node` and `state`, no leader, no members): led by its node,
    # no follower, online while it serves.
    assert (legacy.type, legacy.leader, legacy.members, legacy.online) == (
        "classic", "rabbit@rabbit1", ("rabbit@rabbit1",), ("rabbit@rabbit1",))
    assert legacy.followers() == [] and legacy.messages == 2


def test_rabbitmq_classic_queue_whose_node_is_down_or_not_reported_yet_is_not_online():
    # Recorded with rabbit2 killed: the queue's record stays, its state says `down`. A queue just
    # declared has no state until the node's next statistics (up to 5 s): not known, not online.
    down, fresh = parse_queues([{"name": "a", "type": "classic", "node": "rabbit@rabbit2", "state": "down"},
                                {"name": "b", "type": "classic", "node": "rabbit@rabbit2"}])
    assert down.leader == fresh.leader == "rabbit@rabbit2"
    assert down.online == fresh.online == ()


def test_mongo_repl_status_lag_and_primary():
    t = datetime(2026, 1, 1, 12, 0, 0)
    doc = {"set": "rs0", "members": [
        {"name": "172.30.7.41:27017", "stateStr": "PRIMARY", "health": 1, "optimeDate": t},
        {"name": "172.30.7.42:27017", "stateStr": "SECONDARY", "health": 1, "optimeDate": t - timedelta(seconds=2)},
        {"name": "172.30.7.43:27017", "stateStr": "(not reachable/healthy)", "health": 0},
    ]}
    members = parse_repl_status(doc, {"172.30.7.41": "mongo1", "172.30.7.42": "mongo2"})
    assert [(m.service, m.state, m.lag_s) for m in members] == [
        ("mongo1", "PRIMARY", 0.0), ("mongo2", "SECONDARY", 2.0), (None, "(not reachable/healthy)", None)]
    assert primary_of(members) == "mongo1"
    assert primary_of(members[1:]) is None


# GET /containers/json entries (docker ps)
def summary(service, state="running", status="Up 5 seconds (healthy)", ports=(), ip="172.30.7.21"):
    return {"Id": f"id-{service}", "Names": [f"/drills-x-{service}-1"], "State": state, "Status": status,
            "Labels": {"com.docker.compose.service": service, "com.docker.compose.project": "drills-x"},
            "Ports": [{"IP": "127.0.0.1", "PrivatePort": p, "PublicPort": h, "Type": "tcp"} for p, h in ports]
            + [{"PrivatePort": 2379, "Type": "tcp"}],
            "NetworkSettings": {"Networks": {"drills-x_stack": {"IPAddress": ip}}}}


def test_container_summary():
    info = parse_summary(summary("pg1", ports=[(5432, 32781), (8008, 32780)]), "drills-x_stack")
    assert (info.service, info.name, info.state, info.health, info.ip) == (
        "pg1", "drills-x-pg1-1", "running", "healthy", "172.30.7.21")
    assert info.ports == {5432: 32781, 8008: 32780}
    assert parse_summary(summary("x", status="Up 1 second (health: starting)")).health == "starting"
    assert parse_summary(summary("x", status="Up 1 second")).health is None
    done = parse_summary(summary("mongo-init", state="exited", status="Exited (0) 2 seconds ago", ip=""))
    assert done.exit_code == 0 and done.ip is None


def test_containers_healthy_waits_for_health_and_accepts_finished_one_shots():
    def snap(*docs):
        return {d["Labels"]["com.docker.compose.service"]: parse_summary(d) for d in docs}

    ok = snap(summary("pg1"), summary("lb", status="Up 3 seconds"),
              summary("mongo-init", state="exited", status="Exited (0) 1 second ago"))
    assert containers_healthy(ok).ready
    starting = snap(summary("pg1", status="Up 1 second (health: starting)"))
    assert not containers_healthy(starting).ready and "pg1 starting" in containers_healthy(starting).detail
    failed = snap(summary("mongo-init", state="exited", status="Exited (1) 1 second ago"))
    assert "mongo-init exited 1" in containers_healthy(failed).detail
    assert not containers_healthy(snap(summary("pg2", state="exited", status="Exited (137) now"))).ready
    assert not containers_healthy({}).ready


def test_at_boot_a_container_that_exited_ends_the_wait_at_once():
    def snap(*docs):
        return {d["Labels"]["com.docker.compose.service"]: parse_summary(d) for d in docs}

    crashed = snap(summary("pg1"), summary("pg2", state="exited", status="Exited (1) 2 seconds ago"))
    seen = containers_healthy(crashed, boot=True)
    assert not seen.ready and seen.hopeless and "pg2 exited 1" in seen.detail and "nothing restarts pg2" in seen.detail
    # After a fault the heal starts what it stopped: between drills an exited node is waited for.
    assert not containers_healthy(crashed).hopeless
    restarting = snap(summary("pg2", state="restarting", status="Restarting (1) 1 second ago"))
    assert not containers_healthy(restarting, boot=True).hopeless, "its restart policy starts it again"
    starting = snap(summary("pg1", status="Up 1 second (health: starting)"))
    assert not containers_healthy(starting, boot=True).hopeless


def test_a_hopeless_observation_ends_a_wait_before_its_timeout():
    clock = iter(range(1000))
    seen = iter([Observation(False, "pg1 starting"), Observation(False, "pg2 exited 1", hopeless=True)])
    wait = Wait("containers healthy", lambda: next(seen), timeout_s=120.0, interval_s=1.0)
    with pytest.raises(Hopeless) as raised:
        wait.run(clock=lambda: float(next(clock)), sleep=lambda s: None)
    assert raised.value.elapsed_s < 120.0 and isinstance(raised.value, WaitTimeout)
    assert "will not get ready" in str(raised.value) and "pg2 exited 1" in str(raised.value)


def test_no_container_is_never_called_healthy():
    none = containers_healthy({})
    assert not none.ready and "healthy" not in none.detail and "no container" in none.detail


def test_public_surface():
    exported = {name for name in dir(drills.stack)
                if not name.startswith("_") and not inspect.ismodule(getattr(drills.stack, name))}
    assert set(drills.stack.__all__) == exported


def test_load_balancer_backends_from_haproxy_stats_csv():
    from drills.stack.loadbalancer import parse_stats

    csv_text = (
        "# pxname,svname,qcur,scur,status,weight,check_status,\n"
        "http,FRONTEND,,,OPEN,,,\n"
        "dashboards,dashboard1,0,0,UP,1,L7OK,\n"
        "dashboards,dashboard2,0,0,DOWN,1,L4CON,\n"
        "dashboards,BACKEND,0,0,UP,1,,\n"
    )
    backends = parse_stats(csv_text, "dashboards")
    assert [(b.server, b.status, b.check, b.up) for b in backends] == [
        ("dashboard1", "UP", "L7OK", True), ("dashboard2", "DOWN", "L4CON", False)]


def test_mongo_is_ready_only_with_every_member_back_in_the_set():
    from drills.components._legacy_ready import mongo_in_sync
    from drills.components._mongo_status import MongoMember, MongoStatus

    def status(*states, healthy=True):
        ms = tuple(MongoMember(f"10.0.0.{41 + i}:27017", f"mongo{i + 1}", s, healthy or s == "PRIMARY", 0.0)
                   for i, s in enumerate(states))
        return MongoStatus(True, next((m.service for m in ms if m.state == "PRIMARY"), None), ms)

    assert mongo_in_sync(status("PRIMARY", "SECONDARY", "SECONDARY"), 3).ready
    # A replaced member still in initial sync, or catching up, is not back: the resync verdict waits for it.
    for state in ("STARTUP2", "RECOVERING", "(not reachable/healthy)"):
        seen = mongo_in_sync(status("PRIMARY", "SECONDARY", state), 3)
        assert not seen.ready and f"mongo3 {state}" in seen.detail
    assert not mongo_in_sync(status("PRIMARY", "SECONDARY", "SECONDARY", healthy=False), 3).ready
    assert not mongo_in_sync(status("PRIMARY", "SECONDARY"), 3).ready  # a member missing from the set
    assert not mongo_in_sync(status("SECONDARY", "SECONDARY", "SECONDARY"), 3).ready  # no primary
    assert not mongo_in_sync(MongoStatus(True, error="mongo1: timed out"), 3).ready


def test_readiness_waits_for_each_component_the_role_map_has_as_it_always_did():
    """One wait per legacy kind the stack has (PostgreSQL and RabbitMQ when the role map defines
    them, MongoDB only when a member exists), in the same order and at the same intervals; an
    adapter of the registry of another kind with a readiness gets its own."""
    from types import SimpleNamespace

    from drills.stack.definition import RoleMap
    from drills.stack.readiness import ready_waits

    def view(roles: dict[str, tuple[str, ...]], running: tuple[str, ...]) -> SimpleNamespace:
        snap = {name: SimpleNamespace(service=name) for name in running}
        return SimpleNamespace(settings=SimpleNamespace(roles=RoleMap(roles)), snapshot=lambda: snap,
                               definition=SimpleNamespace(bound=lambda: {}, spec=SimpleNamespace(
                                   components=SimpleNamespace(rabbitmq=None))))

    waits = ready_waits(view({"postgres": ("pg1",), "rabbitmq": ("rabbit1",), "mongo": ("mongo1",)}, ()))
    assert [(w.description, w.interval_s) for w in waits] == [
        ("containers healthy", 1.0), ("postgres", 0.5), ("rabbitmq", 1.0)]
    waits = ready_waits(view({"postgres": ("pg1",), "mongo": ("mongo1",)}, ("mongo1",)))
    assert [w.description for w in waits] == ["containers healthy", "postgres", "mongo"]
