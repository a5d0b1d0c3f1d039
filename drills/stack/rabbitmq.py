"""RabbitMQ tier: cluster members and each quorum queue's leader, through the management HTTP API
(cheap to poll; every `rabbitmqctl` call starts an Erlang VM, and heavy polling slows a forming
cluster on two cores).

The application's queues are quorum queues. They are declared by clients, with exactly
`QUEUE_ARGUMENTS` (durable): `drill stack up` declares them once every member has finished
booting, and each app client checks them on connect and declares a missing one under the same
condition (idempotent).

Two traps of RabbitMQ 3.10 at cluster formation, together the cause of `541 INTERNAL_ERROR` on
every consume, on every node, until the stack was booted afresh (about 1 boot in 12 here):

- A node counts as a running cluster member (`/api/nodes`, and the member list of a new quorum
  queue) as soon as it has joined the cluster's Mnesia, seconds before it has finished booting.
  A quorum queue declared then gets a member there; if that member wins the first election it
  crashes (its leader effects read the `rabbit_queue` table, not loaded there yet:
  `ets:lookup ... badarg`), `ra:start_cluster` times out (15 s) and deletes the queue's Raft
  servers on every node. RabbitMQ then deletes the queue's record, in the declaring process.
- The management API runs a declaration in the HTTP request's own process (a local
  `rpc:call` is a plain function call), and the web server kills that process when the client
  hangs up. A client that gave up before `ra:start_cluster` did (a 2 s timeout did) left the
  record without its Raft servers: the queue "exists", every declare is `existing`, every
  consume fails `noproc`. (An AMQP channel traps exits: an AMQP client that hangs up does not
  interrupt a declaration.)

So a quorum queue is declared only once every member's own management API says it has finished
booting (`node_booted`; the app's clients ask the same before declaring a missing queue), and the
declaring side waits for the answer (`DECLARE_TIMEOUT_S`).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from drills.stack.http import DEFAULT_TIMEOUT_S, request_json

Endpoint = tuple[str, int]
AMQP_PORT = 5672
MANAGEMENT_PORT = 15672
QUEUES = ("scheduled-runs", "notifications")
QUEUE_ARGUMENTS: dict[str, Any] = {"x-queue-type": "quorum"}
USER = "app"
VHOST = "/"
# Longer than anything RabbitMQ waits for inside a quorum queue declaration (`ra:start_cluster`
# gives up after 15 s here): whatever happens, we get RabbitMQ's answer.
DECLARE_TIMEOUT_S = 60.0
# Served by a node's own management API, answered 200 once its AMQP listener is up: the listeners
# start in the last boot steps, after the node's tables are loaded and its plugins started.
BOOTED_CHECK = f"health/checks/port-listener/{AMQP_PORT}"


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

    def __init__(self, endpoints: Sequence[Endpoint], password: str, user: str) -> None:
        """`user`: the stack file's `components.rabbitmq.user` (its password: DRILLS_APP_PASSWORD)."""
        self.endpoints = list(endpoints)
        self.auth = (user, password)

    def request(self, method: str, path: str, body: Any = None, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> Any:
        """The first answer of a node; OSError naming every node's failure when none answered."""
        errors = []
        for host, port in self.endpoints:
            url = f"http://{host}:{port}/api/{path}"
            try:
                status, doc = request_json(method, url, auth=self.auth, body=body, timeout_s=timeout_s)
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
        """Declare `name` with QUEUE_ARGUMENTS through the first node only, and wait for its answer
        (see the module's docstring: a declaration given up half-way can leave a dead queue)."""
        vhost, queue = (urllib.parse.quote(s, safe="") for s in (VHOST, name))
        one = Management(self.endpoints[:1], self.auth[1], self.auth[0])
        one.request("PUT", f"queues/{vhost}/{queue}",
                    {"durable": True, "auto_delete": False, "arguments": QUEUE_ARGUMENTS},
                    timeout_s=DECLARE_TIMEOUT_S)

    def node_booted(self, endpoint: Endpoint) -> str | None:
        """None once the node behind `endpoint` has finished booting, else what it answered. Asked
        of that node itself: the cluster's view (`/api/nodes`) says `running` too early."""
        try:
            Management([endpoint], self.auth[1], self.auth[0]).request("GET", BOOTED_CHECK)
        except OSError as exc:
            return str(exc)
        return None

    def status(self) -> RabbitStatus:
        try:
            return RabbitStatus(tuple(self.nodes()), tuple(self.queues()))
        except OSError as exc:
            return RabbitStatus((), (), error=str(exc))


def queue_problem(queue: Queue | None, running: Iterable[str]) -> str | None:
    """What keeps an app queue from being usable by every client, or None. A quorum queue needs a
    member on every running node (one declared while a node was missing keeps fewer for good), a
    Raft server alive for each member, and a live leader."""
    if queue is None:
        return "not declared"
    if queue.type != "quorum":
        return f"a {queue.type} queue, not quorum"
    missing = sorted(set(running) - set(queue.members))
    if missing:
        return f"no member on {', '.join(missing)}"
    offline = sorted(set(queue.members) - set(queue.online))
    if offline:
        return f"members not running on {', '.join(offline)}"
    if queue.leader is None or queue.leader not in queue.online:
        return "no leader"
    return None
