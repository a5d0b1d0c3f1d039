"""RabbitMQ tier: cluster members and each quorum queue's leader, through the management HTTP API
(cheap to poll; every `rabbitmqctl` call starts an Erlang VM, and heavy polling slows a forming
cluster on two cores).

The application's queues are quorum queues. They are declared by clients, with exactly
`QUEUE_ARGUMENTS` (durable): `drill stack up` declares them once every member runs (a quorum
queue declared earlier would have fewer members), and each app client declares them again on
connect, which is idempotent.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from drills.stack.http import request_json

Endpoint = tuple[str, int]
AMQP_PORT = 5672
MANAGEMENT_PORT = 15672
QUEUES = ("scheduled-runs", "notifications")
QUEUE_ARGUMENTS: dict[str, Any] = {"x-queue-type": "quorum"}
USER = "app"
VHOST = "/"


@dataclass(frozen=True)
class RabbitNode:
    name: str  # rabbit@rabbit1
    running: bool

    @property
    def service(self) -> str:
        return node_service(self.name)


@dataclass(frozen=True)
class Queue:
    name: str
    type: str  # quorum, classic, stream
    leader: str | None  # node name
    members: tuple[str, ...]
    online: tuple[str, ...]
    messages: int | None


@dataclass(frozen=True)
class RabbitStatus:
    nodes: tuple[RabbitNode, ...]
    queues: tuple[Queue, ...]
    error: str | None = None

    def running(self) -> list[str]:
        return sorted(n.name for n in self.nodes if n.running)

    def queue(self, name: str) -> Queue | None:
        return next((q for q in self.queues if q.name == name), None)


def node_service(node: str) -> str:
    """rabbit@rabbit2 -> rabbit2 (the compose service; node names are rabbit@<hostname>)."""
    return node.partition("@")[2] or node


def parse_nodes(doc: Iterable[Mapping[str, Any]]) -> list[RabbitNode]:
    return sorted((RabbitNode(str(n["name"]), bool(n.get("running"))) for n in doc), key=lambda n: n.name)


def parse_queues(doc: Iterable[Mapping[str, Any]]) -> list[Queue]:
    queues = []
    for q in doc:
        leader = q.get("leader") or (q.get("node") if q.get("type") == "classic" else None)
        messages = q.get("messages")
        queues.append(Queue(
            name=str(q["name"]),
            type=str(q.get("type", "classic")),
            leader=str(leader) if leader else None,
            members=tuple(sorted(str(m) for m in q.get("members") or [])),
            online=tuple(sorted(str(m) for m in q.get("online") or [])),
            messages=int(messages) if isinstance(messages, int) else None,
        ))
    return sorted(queues, key=lambda q: q.name)


class Management:
    """The management API of one cluster, tried node by node until one answers."""

    def __init__(self, endpoints: Sequence[Endpoint], password: str, user: str = USER) -> None:
        self.endpoints = list(endpoints)
        self.auth = (user, password)

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """The first answer of a node; OSError naming every node's failure when none answered."""
        errors = []
        for host, port in self.endpoints:
            url = f"http://{host}:{port}/api/{path}"
            try:
                status, doc = request_json(method, url, auth=self.auth, body=body)
            except OSError as exc:
                errors.append(f"{host}:{port}: {exc}")
                continue
            if 200 <= status < 300:
                return doc
            errors.append(f"{host}:{port}: HTTP {status} {doc}")
        raise OSError(f"{method} /api/{path}: " + ("; ".join(errors) or "no management endpoint"))

    def nodes(self) -> list[RabbitNode]:
        return parse_nodes(self.request("GET", "nodes?columns=name,running"))

    def queues(self) -> list[Queue]:
        vhost = urllib.parse.quote(VHOST, safe="")
        columns = "name,type,leader,node,members,online,messages"
        return parse_queues(self.request("GET", f"queues/{vhost}?columns={columns}"))

    def declare_queue(self, name: str) -> None:
        vhost, queue = (urllib.parse.quote(s, safe="") for s in (VHOST, name))
        self.request("PUT", f"queues/{vhost}/{queue}",
                    {"durable": True, "auto_delete": False, "arguments": QUEUE_ARGUMENTS})

    def status(self) -> RabbitStatus:
        try:
            return RabbitStatus(tuple(self.nodes()), tuple(self.queues()))
        except OSError as exc:
            return RabbitStatus((), (), error=str(exc))
