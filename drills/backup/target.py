"""What backups and restores need of a stack (`drills.stack.project.ComposeProject` is one)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeVar

from drills.core.errors import FaultError

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container

    from drills.components.base import Credential
    from drills.stack.definition import StackDefinition
    from drills.stack.env import StackSettings
    from drills.stack.services import ServiceInfo

T = TypeVar("T")


class BackupStack(Protocol):
    @property
    def project(self) -> str: ...

    @property
    def client(self) -> docker.DockerClient: ...

    @property
    def network_name(self) -> str:
        """The Docker network the stack's services share (its stack file names the Compose key)."""
        ...

    @property
    def settings(self) -> StackSettings: ...

    @property
    def definition(self) -> StackDefinition:
        """The stack file: the database, users and replica set the backups read."""
        ...

    def snapshot(self) -> dict[str, ServiceInfo]: ...

    def defined_services(self) -> tuple[str, ...]:
        """Every service the Compose file defines, with a container or not."""
        ...

    def containers(self, role: str) -> list[Container]: ...

    def compose(self, *args: str) -> None: ...

    def credential(self, ref: Credential) -> str:
        """A password the stack file names (the superuser's, the replication user's), resolved."""
        ...


def nodes_of(stack: BackupStack, component: str) -> list[str]:
    """A component's nodes as the Compose file names them: after a total failure no container is
    left to read them from, and a stack whose nodes are named otherwise must not get ours."""
    nodes = stack.settings.roles.members(component, stack.defined_services())
    if not nodes:
        raise FaultError(f"{stack.project} defines no {component} node in its Compose file",
                         hint="`drill stack status` lists the stack's services and their roles")
    return nodes


def endpoint(stack: BackupStack, service: str, port: int) -> tuple[str, int]:
    """Where the host reaches `port` of `service` (the port `drill stack up` fixed for it)."""
    from drills.workload.endpoints import published

    found = published(stack, service, port)
    if found is None:
        raise FaultError(f"{service} of {stack.project} publishes no port {port}")
    return found


def poll(what: str, attempt: Callable[[], T | None], *, timeout_s: float, interval_s: float = 0.5) -> T:
    """Call `attempt` until it returns something (exceptions count as not yet) or time runs out."""
    deadline = time.monotonic() + timeout_s
    last = ""
    while True:
        try:
            found = attempt()
            if found is not None:
                return found
        except Exception as exc:
            last = f"{type(exc).__name__}: {exc}"
        if time.monotonic() > deadline:
            raise FaultError(f"gave up after {timeout_s:g} s waiting for {what}" + (f" ({last})" if last else ""))
        time.sleep(interval_s)
