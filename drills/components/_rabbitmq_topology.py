"""Who is who in a RabbitMQ cluster, read of a running stack (`LegacyStack`): the management API
of its members, the queues its application declares, its status as `drill stack status` reads it,
and the dynamic roles `rabbitmq.leader@QUEUE` / `rabbitmq.follower@QUEUE`. Kept here until
RabbitMQ's adapter module exists (plans/components-protocol.md, C-R1); the registry lists
`resolve` and `read_status` in its topology block.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from drills.components import _rabbitmq_api as api
from drills.components._legacy_stack import LegacyStack, endpoints
from drills.components._rabbitmq_spec import RabbitmqSpec
from drills.components.base import Endpoint
from drills.core.errors import StackError
from drills.core.roles import RoleRef

GROUP = "rabbitmq"  # the role group of the members (the stack file's roles:)


def management(stack: LegacyStack, snap: Mapping[str, Any]) -> api.Management:
    """The cluster's management API, tried member by member, as the stack file's user."""
    rabbit = stack.definition.component("rabbitmq", RabbitmqSpec)
    eps = endpoints(snap, stack.members(snap, GROUP), rabbit.management_port)
    return api.Management(list(eps.values()), stack.settings.secrets.app_password, rabbit.user)


def management_endpoints(stack: LegacyStack, snap: Mapping[str, Any], nodes: Sequence[str]) -> dict[str, Endpoint]:
    """Where the host reaches each running member's own management API (service -> endpoint)."""
    return endpoints(snap, nodes, stack.definition.component("rabbitmq", RabbitmqSpec).management_port)


def app_queues(stack: Any) -> tuple[str, ...]:
    """The queues the stack file says its application declares (`components.rabbitmq.queues`):
    none when it names none, whatever the reference stack's are. `stack`: anything with the stack
    file's `definition`."""
    rabbit = stack.definition.spec.components.rabbitmq
    return tuple(rabbit.queues) if rabbit is not None else ()


def queue_of(stack: LegacyStack, ref: RoleRef) -> str:
    """The queue of `rabbitmq.leader@QUEUE`; without @QUEUE, the stack file's `leader_queue` (else
    its first queue, else the harness's default)."""
    named = ref.selector.partition("@")[2]
    rabbit = stack.definition.spec.components.rabbitmq
    if named:
        return named
    if rabbit is not None and (rabbit.leader_queue or rabbit.queues):
        return str(rabbit.leader_queue or rabbit.queues[0])
    return ref.queue


def read_status(stack: LegacyStack, snap: Mapping[str, Any]) -> api.RabbitStatus:
    return management(stack, snap).status()


def resolve(stack: LegacyStack, snap: Mapping[str, Any], ref: RoleRef, group: list[str]) -> list[str]:
    """The node leading the queue (leader) or its other members (follower), as services."""
    # A classic queue is led by the node it lives on and has no follower (api.parse_queues).
    name = queue_of(stack, ref)
    queue = next((q for q in management(stack, snap).queues() if q.name == name), None)
    if queue is None or queue.leader is None:
        raise StackError(f"{ref}: queue {name!r} has no leader right now")
    nodes = [queue.leader] if ref.base_selector == "leader" else queue.followers()
    return [api.node_service(n) for n in nodes]
