"""What backups and restores need of a stack (`drills.stack.project.ComposeProject` is one), and
how they find the component's backup method (`drills.components.registry`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from drills.components._backup_tools import BackupLive, endpoint, nodes_of, poll
from drills.components.registry import LegacyBackup, backup_method

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container

    from drills.components.base import Credential
    from drills.stack.definition import StackDefinition
    from drills.stack.env import StackSettings
    from drills.stack.services import ServiceInfo

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


__all__ = ["BackupStack", "endpoint", "live_of", "method_of", "nodes_of", "poll"]


def live_of(stack: BackupStack) -> BackupLive:
    """The stack as the components' backup methods see it (mypy checks here that it is one)."""
    return stack


def method_of(stack: BackupStack, component: str, method: str) -> LegacyBackup:
    """The backup method `method` (a scenario's dump | snapshot) of the stack's component `component`."""
    return backup_method(stack.definition.bound(), component, method)
