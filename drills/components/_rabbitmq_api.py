"""RabbitMQ's management HTTP API, as every part of Drills that reads it asks it: one cluster, tried
node by node until one answers; and whether one node has finished booting, by its own answer.

`drills.stack.rabbitmq.Management` (the status reads: nodes, queues) extends it; the definitions
backup (`_rabbitmq_definitions`) uses it as it is. Private until the RabbitMQ adapter moves in
(docs/plans/components-protocol.md, C-R).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from drills.components.httpjson import DEFAULT_TIMEOUT_S, request_json

Endpoint = tuple[str, int]
AMQP_PORT = 5672
# Served by a node's own management API, answered 200 once its AMQP listener is up: the listeners
# start in the last boot steps, after the node's tables are loaded and its plugins started.
BOOTED_CHECK = f"health/checks/port-listener/{AMQP_PORT}"


class ManagementApi:
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

    def node_booted(self, endpoint: Endpoint) -> str | None:
        """None once the node behind `endpoint` has finished booting, else what it answered. Asked
        of that node itself: the cluster's view (`/api/nodes`) says `running` too early."""
        try:
            ManagementApi([endpoint], self.auth[1], self.auth[0]).request("GET", BOOTED_CHECK)
        except OSError as exc:
            return str(exc)
        return None
