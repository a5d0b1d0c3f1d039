"""A stack as the component adapters see it (`drills.components.base.Live`), for the reads of
`drill stack status` and of the effective configuration, until `ComposeProject` is a `Live` itself
(docs/plans/components-protocol.md, step A4).

Those reads have a stack as `EffectiveStack` sees it (the engine's client, the containers, the
role map); this answers what an adapter's `status` and `effective.read` may ask of it from that:
the containers, a role's services, where the host reaches a port, which service a host name or
address is. What it cannot answer from there (running Compose, a password, another component's
adapter) raises StackError naming what to use instead, never a guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from drills.components._members import Addressed, service_of_host
from drills.core.errors import StackError

LOCALHOST = "127.0.0.1"  # where the host reaches a published port (as drills.components._effective_stack)

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container

    from drills.components.base import Bound, Credential, Live
    from drills.stack.env import StackSettings
    from drills.stack.services import ServiceInfo


class ReadableStack(Protocol):
    """What the reads have of a stack (`drills.stack.effective_sources.EffectiveStack` is one)."""

    @property
    def settings(self) -> StackSettings: ...

    @property
    def client(self) -> docker.DockerClient: ...

    def snapshot(self) -> dict[str, ServiceInfo]: ...

    def defined_services(self) -> tuple[str, ...]: ...


class StackLive:
    """`Live` over a `ReadableStack`, with the snapshot taken once (`snap`) or on each call."""

    def __init__(self, stack: ReadableStack, snap: Mapping[str, ServiceInfo] | None = None) -> None:
        self._stack, self._snap = stack, snap

    @property
    def project(self) -> str:
        return self._stack.settings.project

    @property
    def client(self) -> docker.DockerClient:
        return self._stack.client

    @property
    def network_name(self) -> str:
        raise StackError("the stack's network is not known to a status read", hint="use the ComposeProject")

    def snapshot(self) -> Mapping[str, ServiceInfo]:
        return self._snap if self._snap is not None else self._stack.snapshot()

    def defined_services(self) -> tuple[str, ...]:
        return self._stack.defined_services()

    def members(self, group: str, among: Iterable[str] | None = None) -> list[str]:
        return self._stack.settings.roles.members(group, list(among) if among is not None else list(self.snapshot()))

    def reach(self, service: str, port: int, snap: Mapping[str, Any] | None = None) -> tuple[str, int] | None:
        info = (snap if snap is not None else self.snapshot()).get(service)
        published = info.ports.get(port) if info is not None else None
        return (LOCALHOST, published) if published else None

    def service_of_host(self, host: str, snap: Mapping[str, Any] | None = None) -> str | None:
        """The service whose name, container address, container name or container id (a prefix of
        12 or more characters, as docker prints it and as a container's hostname defaults) is `host`."""
        found = snap if snap is not None else self.snapshot()
        for service, info in found.items():
            if host in (service, info.ip, getattr(info, "name", None)):
                return str(service)
            if len(host) >= 12 and str(info.container_id).startswith(host):
                return str(service)
        return None

    def containers(self, role: str) -> list[Container]:
        """The containers of the role's services now (static roles: the role map's)."""
        snap = self.snapshot()
        return [self.client.containers.get(snap[s].container_id) for s in self.members(role)]

    def compose(self, *args: str) -> None:
        raise StackError(f"docker compose {' '.join(args)}: a status read does not run Compose",
                         hint="use the ComposeProject")

    def credential(self, ref: Credential) -> str:
        raise StackError("a status read resolves no password", hint="use the ComposeProject's credentials")

    def component(self, key: str) -> Bound[Any] | None:
        return None  # the stack file's entries are bound to adapters from step B1 on


def as_live(stack: ReadableStack, snap: Mapping[str, ServiceInfo] | None = None) -> Live:
    """`stack` as an adapter's `Live` (mypy checks here that StackLive is one)."""
    return StackLive(stack, snap)


class LoggingInStack(Protocol):
    """A stack that also resolves the stack file's passwords and its containers' other names
    (`drills.stack.topology.StackView`, `drills.stack.effective_sources.EffectiveStack`; `ComposeProject`
    is both): what an adapter that logs in (PostgreSQL under repmgr) needs beyond a status read."""

    @property
    def settings(self) -> StackSettings: ...

    def snapshot(self) -> dict[str, ServiceInfo]: ...

    def credential(self, ref: Credential) -> str: ...

    def host_names(self, snap: Mapping[str, ServiceInfo]) -> Mapping[str, tuple[str, ...]]: ...


class ViewLive(StackLive):
    """`Live` over a stack that resolves passwords: the readiness, roles, status and sampling seams
    call a component adapter through it. A view without an engine client (a stand-in) raises
    StackError when an adapter asks for one."""

    def __init__(self, stack: LoggingInStack, snap: Mapping[str, ServiceInfo] | None = None) -> None:
        super().__init__(stack, snap)  # type: ignore[arg-type]  # client/defined_services: asked for below
        self._view = stack

    @property
    def client(self) -> docker.DockerClient:
        client = getattr(self._view, "client", None)
        if client is None:
            raise StackError("this view of the stack has no engine client", hint="use the ComposeProject")
        return client  # type: ignore[no-any-return]

    def defined_services(self) -> tuple[str, ...]:
        defined = getattr(self._view, "defined_services", None)
        return tuple(defined()) if defined is not None else tuple(self.snapshot())

    def service_of_host(self, host: str, snap: Mapping[str, Any] | None = None) -> str | None:
        """As `ComposeProject.service_of_host`: address, service name, then hostnames and aliases."""
        found = dict(snap if snap is not None else self.snapshot())
        return service_of_host(host, _addressed(found)) or \
            service_of_host(host, _addressed(found, self._view.host_names(found)))

    def credential(self, ref: Credential) -> str:
        return self._view.credential(ref)


def _addressed(snap: Mapping[str, ServiceInfo], more: Mapping[str, tuple[str, ...]] | None = None) -> list[Addressed]:
    more = more or {}
    return [Addressed(s.service, s.ip, (*s.aliases, *more.get(s.service, ()))) for s in snap.values()]


def as_logged_in(stack: LoggingInStack, snap: Mapping[str, ServiceInfo] | None = None) -> Live:
    """`stack` as an adapter's `Live` that can log in (mypy checks here that ViewLive is one)."""
    return ViewLive(stack, snap)
