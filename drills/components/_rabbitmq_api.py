"""RabbitMQ tier: cluster members and each queue's leader, through the management HTTP API (cheap
to poll; every `rabbitmqctl` call starts an Erlang VM, and heavy polling slows a forming cluster
on two cores).

A stack's application owns its queues (the stack file's `components.rabbitmq.queues`; on the
reference stack `QUEUES`): each app client checks them on connect and declares a missing one,
durable, of the type the operator chose (quorum by default; classic with DRILLS_QUEUE_TYPE), only
once every member has finished booting (fixtures/images/app/drills_app/common.py,
`Amqp.declare_queues`). Drills never declares them: it waits until they exist and are led
(readiness) and reads them back, so a drill judges the stack's configuration, not Drills' own.

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
booting (the app's clients ask `BOOTED_CHECK` of each member before declaring a missing queue;
`node_booted` here is the same question), over AMQP, and the declaring side waits for the answer
(the app's DECLARE_TIMEOUT_S, longer than RabbitMQ's own 15 s).

The management API shows the two queue types differently: a quorum queue has a `leader`, its
`members` and the members `online` (a Raft server running); a classic queue has only the `node`
it lives on and a `state` (`down` while that node is). `parse_queues` reads both into one shape:
a classic queue is led by its node, has no follower, and is online while its state says so.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from drills.components.httpjson import DEFAULT_TIMEOUT_S, request_json

Endpoint = tuple[str, int]
AMQP_PORT = 5672
MANAGEMENT_PORT = 15672
# The queues the reference stack's application declares (stacks/reference/stack.yaml lists them
# for readiness; the app's drills_app.common.QUEUES are the same).
QUEUES = ("scheduled-runs", "notifications", "drill-events")
VHOST = "/"
# A classic queue's `state` while its process serves (`flow`: throttled by credit flow, serving).
# Anything else (`down`, `crashed`, `stopped`, or no state reported yet) is not online.
CLASSIC_LIVE_STATES = frozenset({"running", "flow"})
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
    leader: str | None  # node name (a classic queue's: the node it lives on)
    members: tuple[str, ...]  # a classic queue's: its node
    online: tuple[str, ...]  # members serving the queue now
    messages: int | None

    def followers(self) -> list[str]:
        """The members other than the leader (none for a classic queue)."""
        return [m for m in self.members if m != self.leader]


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
    """`GET /api/queues/<vhost>` (see the module's docstring for the two shapes)."""
    queues = []
    for q in doc:
        kind = str(q.get("type", "classic"))
        messages = q.get("messages")
        if kind == "classic":
            node = str(q["node"]) if q.get("node") else None
            leader = node
            members: tuple[str, ...] = (node,) if node else ()
            online: tuple[str, ...] = members if q.get("state") in CLASSIC_LIVE_STATES else ()
        else:
            leader = str(q["leader"]) if q.get("leader") else None
            members = tuple(sorted(str(m) for m in q.get("members") or []))
            online = tuple(sorted(str(m) for m in q.get("online") or []))
        queues.append(Queue(str(q["name"]), kind, leader, members, online,
                            int(messages) if isinstance(messages, int) else None))
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

    def queues(self, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> list[Queue]:
        vhost = urllib.parse.quote(VHOST, safe="")
        columns = "name,type,leader,node,members,online,state,messages"
        return parse_queues(self.request("GET", f"queues/{vhost}?columns={columns}", timeout_s=timeout_s))

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


def leader_problem(queue: Queue | None) -> str | None:
    """What keeps a queue from confirming a publish now, or None: it needs a leader whose member
    is online (a leader the queue lists but whose Raft server is not running cannot confirm)."""
    if queue is None:
        return "not declared"
    if queue.leader is None or queue.leader not in queue.online:
        if queue.type == "classic" and queue.leader is not None:
            return f"its node {queue.leader} is not serving it"
        return "no live leader"
    return None


def queue_problem(queue: Queue | None, running: Iterable[str]) -> str | None:
    """What keeps an app queue from being usable by every client, or None. A quorum queue needs a
    member on every running node (one declared while a node was missing keeps fewer for good), a
    Raft server alive for each member, and a live leader; a classic queue, its node running and
    serving it."""
    if queue is None:
        return "not declared"
    if queue.type == "classic":
        if queue.leader is not None and queue.leader not in set(running):
            return f"its node {queue.leader} is not running"
        return leader_problem(queue)
    missing = sorted(set(running) - set(queue.members))
    if missing:
        return f"no member on {', '.join(missing)}"
    offline = sorted(set(queue.members) - set(queue.online))
    if offline:
        return f"members not running on {', '.join(offline)}"
    if queue.leader is None or queue.leader not in queue.online:
        return "no leader"
    return None
