"""Where the host reaches the stack's services: what a signal's clients connect to.

Clients get plain data (host, port), never the stack object: they are testable without one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from drills.components.base import Credential
    from drills.stack.definition import StackDefinition
    from drills.stack.env import StackSettings
    from drills.stack.services import ServiceInfo

LOCALHOST = "127.0.0.1"


class StackLike(Protocol):
    """What the workload needs of a stack (`drills.stack.ComposeProject` is one)."""

    @property
    def settings(self) -> StackSettings: ...
    @property
    def definition(self) -> StackDefinition:
        """The stack file drilled: the database, queue, users and balancer the signals use."""
        ...
    def snapshot(self) -> dict[str, ServiceInfo]: ...
    def credential(self, ref: Credential) -> str:
        """A password the stack file names (the signals' logins), resolved."""
        ...


def published(stack: StackLike, service: str, port: int,
              snap: Mapping[str, ServiceInfo] | None = None) -> tuple[str, int] | None:
    """Where the host reaches `port` of `service`: the host port `drill stack up` picked for it
    (stable across restarts of the container, so a client keeps reaching a respawned node), else
    what Docker published for the running container now, else None."""
    from drills.components._backup_tools import published as reached  # where the backups reach it too

    return reached(stack, service, port, snap)


def group_endpoints(stack: StackLike, component: str, port: int) -> tuple[tuple[str, int], ...]:
    """Every node of `component` (pg1..pg3, ...) as the host reaches its `port`; StackError when none
    publishes it."""
    from drills.components._backup_tools import group_endpoints as reached

    return reached(stack, component, port)
