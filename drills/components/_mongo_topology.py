"""Who is who in a MongoDB replica set, read of a running stack (`LegacyStack`): its status as
`drill stack status` and readiness read it, and the dynamic roles `mongo.primary` /
`mongo.secondary`. Kept here until MongoDB's adapter module exists (plans/components-protocol.md,
C-M1); the registry lists `resolve` and `read_status` in its topology block.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drills.components import _mongo_status as mongo
from drills.components._legacy_stack import LegacyStack, endpoints, service_by_ip
from drills.components._mongo_image import MONGO_IMAGE
from drills.components._mongo_spec import MongoSpec
from drills.core.errors import StackError
from drills.core.roles import RoleRef

GROUP = "mongo"  # the role group of the members (the stack file's roles:)


def read_status(stack: LegacyStack, snap: Mapping[str, Any]) -> mongo.MongoStatus:
    """`replSetGetStatus` as the stack file's root user; a stack without MongoDB members says why
    (left out for want of its image, or none in the stack)."""
    spec = stack.definition.component("mongo", MongoSpec)
    nodes = stack.members(snap, GROUP)
    if not nodes:
        return mongo.not_run(stack.settings.not_run(MONGO_IMAGE.profile) or "no MongoDB service in this stack")
    return mongo.read_status(endpoints(snap, nodes, spec.port), spec.root_user,
                             stack.settings.secrets.mongo_root_password, service_by_ip(snap))


def resolve(stack: LegacyStack, snap: Mapping[str, Any], ref: RoleRef, group: list[str]) -> list[str]:
    """The members in state PRIMARY (primary) or SECONDARY (secondary), as services."""
    status = read_status(stack, snap)
    if status.error is not None:
        raise StackError(f"{ref}: {status.error}")
    wanted = "PRIMARY" if ref.base_selector == "primary" else "SECONDARY"
    return [m.service for m in status.members if m.state == wanted and m.service]
