"""What the backups and restores of the components share: what they use of a running stack
(`BackupLive`), its nodes and the ports the host reaches them on, and waiting for a new cluster.

`BackupLive` is the slice of a stack the legacy backup methods read (the stack file's entries and
the run's settings as `drills.stack` models them, structurally): `drills.backup.target.live_of`
checks that a `BackupStack` (a `ComposeProject`) is one. It goes with the legacy table when the
adapters declare their `BackupMethod`s on `components.base.Live` (docs/plans/components-protocol.md,
C-P3, C-R3, C-M3).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from drills.components._host_ports import variable
from drills.core.errors import FaultError, StackError

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container

    from drills.components.base import Credential

T = TypeVar("T")
Clock = Callable[[], float]
Endpoint = tuple[str, int]
LOCALHOST = "127.0.0.1"


# ---- what the backups read of a stack --------------------------------------------------------------


class Service(Protocol):
    """One service's container as the engine lists it (`drills.stack.services.ServiceInfo`)."""

    @property
    def state(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def exit_code(self) -> int | None: ...
    @property
    def ports(self) -> Mapping[int, int]: ...


class RoleLookup(Protocol):
    def members(self, group: str, services: Any) -> list[str]:
        """The services of `group` among `services` (names, or a mapping keyed by name)."""
        ...


class GeneratedSecrets(Protocol):
    @property
    def app_password(self) -> str: ...
    @property
    def mongo_root_password(self) -> str: ...


class Settings(Protocol):
    """The run's settings (`drills.stack.env.StackSettings`)."""

    @property
    def project(self) -> str: ...
    @property
    def roles(self) -> RoleLookup: ...
    @property
    def ports(self) -> Mapping[str, int]:
        """The host ports `drill stack up` fixed (`DRILLS_PORT_*` -> port)."""
        ...
    @property
    def secrets(self) -> GeneratedSecrets: ...
    def pulled_image(self, profile: str) -> str:
        """The image a pulled component's profile runs (`PulledImage.profile`)."""
        ...


class EtcdEntry(Protocol):
    @property
    def client_port(self) -> int: ...


class ComponentEntries(Protocol):
    @property
    def etcd(self) -> EtcdEntry | None: ...


class StackFileSpec(Protocol):
    @property
    def components(self) -> ComponentEntries: ...


class Definition(Protocol):
    """The stack file (`drills.stack.definition.StackDefinition`): each entry, else its defaults."""

    @property
    def spec(self) -> StackFileSpec: ...
    def component(self, key: str, model: type[T]) -> T:
        """The entry under `components.<key>` as `model`, else the defaults of that key."""
        ...


class Reachable(Protocol):
    """A stack whose services' ports the host reaches (the signals' `StackLike` is one too)."""

    @property
    def settings(self) -> Settings: ...
    def snapshot(self) -> Mapping[str, Service]: ...


class BackupLive(Reachable, Protocol):
    """What a backup or a restore uses of a running stack (`drills.stack.project.ComposeProject`)."""

    @property
    def project(self) -> str: ...
    @property
    def client(self) -> docker.DockerClient: ...
    @property
    def network_name(self) -> str: ...
    @property
    def definition(self) -> Definition: ...
    def defined_services(self) -> tuple[str, ...]: ...
    def containers(self, role: str) -> list[Container]: ...
    def compose(self, *args: str) -> None: ...
    def credential(self, ref: Credential) -> str: ...


# ---- nodes, ports, waits ------------------------------------------------------------------------------


def nodes_of(stack: BackupLive, component: str) -> list[str]:
    """A component's nodes as the Compose file names them: after a total failure no container is
    left to read them from, and a stack whose nodes are named otherwise must not get ours."""
    nodes = stack.settings.roles.members(component, stack.defined_services())
    if not nodes:
        raise FaultError(f"{stack.project} defines no {component} node in its Compose file",
                         hint="`drill stack status` lists the stack's services and their roles")
    return nodes


def published(stack: Reachable, service: str, port: int,
              snap: Mapping[str, Service] | None = None) -> Endpoint | None:
    """Where the host reaches `port` of `service`: the host port `drill stack up` picked for it,
    else what Docker published for the running container now, else None (the signals' clients
    reach it there too: `drills.workload.endpoints.published`)."""
    fixed = stack.settings.ports.get(variable(service, port))
    if fixed:
        return LOCALHOST, int(fixed)
    info = (snap if snap is not None else stack.snapshot()).get(service)
    if info is not None and port in info.ports:
        return LOCALHOST, info.ports[port]
    return None


def endpoint(stack: BackupLive, service: str, port: int) -> Endpoint:
    """Where the host reaches `port` of `service` (the port `drill stack up` fixed for it)."""
    found = published(stack, service, port)
    if found is None:
        raise FaultError(f"{service} of {stack.project} publishes no port {port}")
    return found


def group_endpoints(stack: Reachable, component: str, port: int) -> tuple[Endpoint, ...]:
    """Every node of `component` as the host reaches its `port`; StackError when none publishes it."""
    snap = stack.snapshot()
    found = [published(stack, s, port, snap) for s in stack.settings.roles.members(component, snap)]
    endpoints = tuple(e for e in found if e is not None)
    if not endpoints:
        raise StackError(f"no {component} node of {stack.settings.project} publishes port {port}")
    return endpoints


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

