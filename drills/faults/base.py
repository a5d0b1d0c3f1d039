"""What a fault needs from the stack, and the one way every fault is applied.

A fault is a plain function `inject(stack, params, fault_id) -> Entry`; the Entry's heal actions
are written to the ledger *before* the fault touches anything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from drills.errors import FaultError
from drills.faults import ledger
from drills.faults.heal import PROJECT_LABEL

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container


class FaultTarget(Protocol):
    """The stack as faults see it (implemented by `drills.stack`)."""

    @property
    def project(self) -> str: ...

    @property
    def client(self) -> docker.DockerClient: ...

    def containers(self, role: str) -> list[Container]:
        """Containers for a role (`postgres.leader`, `rabbitmq.*`, `dashboard[0]`, `clients` ...)."""
        ...

    def ip_of(self, container: Container) -> str: ...

    def gateway_ip(self) -> str:
        """Where the host's (published-port) traffic enters the stack network from."""
        ...

    def compose(self, *args: str) -> None: ...


def check_owned(stack: FaultTarget, containers: list[Container]) -> None:
    for c in containers:
        if c.labels.get(PROJECT_LABEL) != stack.project:
            raise FaultError(f"refusing to touch {c.name}: not part of project {stack.project}")


def apply(stack: FaultTarget, kind: str, fault_id: str, heal: list[dict[str, Any]],
          do: Callable[[], None]) -> ledger.Entry:
    entry = ledger.Entry(fault_id=fault_id, kind=kind, project=stack.project, heal=heal)
    ledger.record_applying(entry)
    do()
    return entry


def targets(stack: FaultTarget, role: str) -> list[Container]:
    found = stack.containers(role)
    if not found:
        raise FaultError(f"no container has the role {role!r} in {stack.project} right now",
                         hint="check `drill stack status`; roles are resolved when the fault starts")
    check_owned(stack, found)
    return found


def volumes_of(container: Container) -> list[str]:
    return [m["Name"] for m in container.attrs.get("Mounts", []) if m.get("Type") == "volume"]


def service_of(container: Container) -> str:
    return str(container.labels["com.docker.compose.service"])
