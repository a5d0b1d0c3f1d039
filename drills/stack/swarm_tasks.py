"""A swarm stack's tasks with the node that runs each and its container, read from what the manager
says (pure: the docker commands are `drills.stack.swarm_project`'s).

`docker service ps` names a task's node by hostname, and every node of the test cluster has the
machine's hostname: so the tasks are read with `docker inspect` (node ID, container ID, state), and a
node ID is told by its label `io.drills.node` (`docker node inspect`).

    nodes = parse_nodes(node_inspect_json)                  # node ID -> SwarmNodeInfo
    services = parse_services(service_inspect_json, project)  # service ID -> pg1
    tasks = parse_tasks(task_inspect_json, services, nodes)
    current(tasks)["pg1"].node, .container_id
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from drills.cluster.swarm import NODE_LABEL

STACK_LABEL = "com.docker.stack.namespace"  # what `docker stack deploy` puts on its services and tasks


@dataclass(frozen=True)
class SwarmNodeInfo:
    node_id: str
    name: str  # its io.drills.node label (node-2); its hostname where it has none
    address: str
    state: str  # ready | down | unknown
    availability: str  # active | pause | drain
    manager: bool


@dataclass(frozen=True)
class Task:
    task_id: str
    service: str  # as the Compose files name it: pg1, not <project>_pg1
    slot: int
    node: str  # the node's name ("" while not assigned)
    desired: str  # running | shutdown | ...
    state: str  # new | pending | assigned | preparing | starting | running | complete | failed | shutdown | ...
    since: str  # the state's timestamp, as Swarm wrote it (RFC 3339)
    container_id: str  # "" until the node created the container
    message: str = ""
    error: str = ""

    @property
    def running(self) -> bool:
        return self.state == "running" and self.desired == "running" and bool(self.container_id)


def parse_nodes(inspect: Iterable[Mapping[str, Any]]) -> dict[str, SwarmNodeInfo]:
    """`docker node inspect <ids>` (a JSON list) -> node ID -> what the swarm knows of it."""
    found = {}
    for doc in inspect:
        spec = doc.get("Spec") or {}
        status = doc.get("Status") or {}
        name = str((spec.get("Labels") or {}).get(NODE_LABEL) or (doc.get("Description") or {}).get("Hostname", ""))
        found[str(doc.get("ID", ""))] = SwarmNodeInfo(
            node_id=str(doc.get("ID", "")), name=name, address=str(status.get("Addr", "")),
            state=str(status.get("State", "")), availability=str(spec.get("Availability", "")),
            manager=doc.get("ManagerStatus") is not None)
    return found


def parse_services(inspect: Iterable[Mapping[str, Any]], project: str) -> dict[str, str]:
    """`docker service inspect <ids>` (a JSON list) -> service ID -> the service's name in the stack.
    (`docker service ls` prints IDs cut short, and a task names its service by the whole ID.)"""
    found = {}
    prefix = f"{project}_"
    for doc in inspect:
        name = str((doc.get("Spec") or {}).get("Name", ""))
        found[str(doc.get("ID", ""))] = name[len(prefix):] if name.startswith(prefix) else name
    return found


def parse_tasks(inspect: Iterable[Mapping[str, Any]], services: Mapping[str, str],
                nodes: Mapping[str, SwarmNodeInfo]) -> list[Task]:
    """`docker inspect --type task <ids>` (a JSON list) -> the tasks of the services named in
    `services` (by ID), each with its node's name."""
    found = []
    for doc in inspect:
        service = services.get(str(doc.get("ServiceID", "")))
        if service is None:
            continue
        status = doc.get("Status") or {}
        node = nodes.get(str(doc.get("NodeID", "")))
        found.append(Task(
            task_id=str(doc.get("ID", "")), service=service, slot=int(doc.get("Slot") or 0),
            node=node.name if node is not None else "", desired=str(doc.get("DesiredState", "")),
            state=str(status.get("State", "")), since=str(status.get("Timestamp", "")),
            container_id=str((status.get("ContainerStatus") or {}).get("ContainerID") or ""),
            message=str(status.get("Message", "")), error=str(status.get("Err", ""))))
    return found


def current(tasks: Iterable[Task]) -> dict[str, Task]:
    """service -> its task now: the latest that Swarm wants running (a killed task's replacement
    once it is scheduled), else the latest of all (a service whose task failed and is not replaced)."""
    found: dict[str, Task] = {}
    for task in sorted(tasks, key=lambda t: (t.desired == "running", t.since)):
        found[task.service] = task
    return found


def on_nodes(tasks: Iterable[Task]) -> dict[str, list[str]]:
    """node -> the services whose current task it runs (what the report shows: what ran where)."""
    found: dict[str, list[str]] = {}
    for task in current(tasks).values():
        found.setdefault(task.node, []).append(task.service)
    return {node: sorted(services) for node, services in sorted(found.items())}


def not_running(tasks: Iterable[Task], services: Iterable[str]) -> dict[str, str]:
    """service -> why it is not running (its task's state and error), for the services named."""
    now = current(tasks)
    found = {}
    for service in services:
        task = now.get(service)
        if task is None:
            found[service] = "no task yet"
        elif not task.running:
            why = task.error or task.message
            found[service] = f"{task.state}{f' on {task.node}' if task.node else ''}{f': {why}' if why else ''}"
    return found
