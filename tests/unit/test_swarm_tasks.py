"""A swarm stack's tasks with their node (told by its io.drills.node label: every node of the test
cluster has the same hostname) and their container, from what the manager says."""

from __future__ import annotations

from typing import Any

from drills.stack.swarm_tasks import current, not_running, on_nodes, parse_nodes, parse_services, parse_tasks

NODES: list[dict[str, Any]] = [  # `docker node inspect`, trimmed
    {"ID": "n1", "Spec": {"Labels": {"io.drills.node": "node-1"}, "Role": "manager", "Availability": "active"},
     "Description": {"Hostname": "box"}, "Status": {"State": "ready", "Addr": "10.213.0.11"},
     "ManagerStatus": {"Leader": True, "Reachability": "reachable", "Addr": "10.213.0.11:2377"}},
    {"ID": "n2", "Spec": {"Labels": {"io.drills.node": "node-2"}, "Role": "worker", "Availability": "active"},
     "Description": {"Hostname": "box"}, "Status": {"State": "down", "Addr": "10.213.0.12"}},
    {"ID": "n3", "Spec": {"Labels": {}, "Availability": "drain"}, "Description": {"Hostname": "other"},
     "Status": {"State": "ready", "Addr": "10.0.0.3"}},
]
SERVICES: list[dict[str, Any]] = [  # `docker service inspect`, trimmed
    {"ID": "s1", "Spec": {"Name": "demo_pg1", "Labels": {"com.docker.stack.namespace": "demo"}}},
    {"ID": "s2", "Spec": {"Name": "demo_pg2", "Labels": {"com.docker.stack.namespace": "demo"}}},
]


def task(task_id: str, service: str, node: str, desired: str, state: str, at: str, container: str = "",
         err: str = "") -> dict[str, Any]:
    """One task as `docker inspect --type task` shows it, trimmed."""
    status: dict[str, Any] = {"Timestamp": at, "State": state, "Message": state}
    if container:
        status["ContainerStatus"] = {"ContainerID": container, "PID": 42, "ExitCode": 0}
    if err:
        status["Err"] = err
    return {"ID": task_id, "ServiceID": service, "Slot": 1, "NodeID": node, "DesiredState": desired,
            "Status": status}


TASKS = [
    task("t1", "s1", "n1", "shutdown", "failed", "2026-12-06T03:00:01Z", "c-old", err="task: non-zero exit (137)"),
    task("t2", "s1", "n2", "running", "running", "2026-12-06T03:00:09Z", "c-new"),
    task("t3", "s2", "n1", "running", "pending", "2026-12-06T03:00:02Z", err="no suitable node"),
    task("t9", "other", "n1", "running", "running", "2026-12-06T03:00:02Z", "c-else"),
]


def test_nodes_are_told_by_their_label_and_a_node_without_one_by_its_hostname() -> None:
    nodes = parse_nodes(NODES)
    assert [(n.name, n.address, n.state, n.availability, n.manager) for n in nodes.values()] == [
        ("node-1", "10.213.0.11", "ready", "active", True), ("node-2", "10.213.0.12", "down", "active", False),
        ("other", "10.0.0.3", "ready", "drain", False)]


def test_services_are_named_as_the_compose_files_name_them() -> None:
    assert parse_services(SERVICES, "demo") == {"s1": "pg1", "s2": "pg2"}
    assert parse_services([], "demo") == {}


def test_tasks_with_their_node_and_container_and_the_current_one_per_service() -> None:
    tasks = parse_tasks(TASKS, parse_services(SERVICES, "demo"), parse_nodes(NODES))
    assert [(t.task_id, t.service, t.node, t.state, t.container_id) for t in tasks] == [
        ("t1", "pg1", "node-1", "failed", "c-old"), ("t2", "pg1", "node-2", "running", "c-new"),
        ("t3", "pg2", "node-1", "pending", "")]  # t9 belongs to a service of another stack
    now = current(tasks)
    assert now["pg1"].task_id == "t2" and now["pg1"].running  # rescheduled from node-1 to node-2
    assert not now["pg2"].running
    assert on_nodes(tasks) == {"node-1": ["pg2"], "node-2": ["pg1"]}
    assert not_running(tasks, ["pg1", "pg2", "pg3"]) == {"pg2": "pending on node-1: no suitable node",
                                                          "pg3": "no task yet"}


def test_a_task_on_a_node_the_manager_does_not_list_has_no_node_name() -> None:
    [found] = parse_tasks([task("t", "s1", "gone", "running", "assigned", "2026-12-06T03:00:00Z")],
                          {"s1": "pg1"}, {})
    assert found.node == "" and not found.running
    assert not_running([found], ["pg1"]) == {"pg1": "assigned: assigned"}
