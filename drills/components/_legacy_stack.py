"""What the topology, status, readiness and effective-configuration reads of the kinds whose
adapters have not moved in yet (PostgreSQL under Patroni, RabbitMQ, MongoDB, HAProxy) use of a
running stack: `LegacyStack`, a structural Protocol that `drills.stack.topology.Legacy` implements
over a view of the stack, so that those reads live here (one private module per kind) without this
layer importing `drills.stack` (plans/components-protocol.md, B2, C-P2, C-R2, C-M2, C-H1). Each
kind's lane moves its reads into its adapter, on a `Live`.

The stack file's entries are read as the stack layer models them (`StackDefinition.component(key,
model)`: the entry, else its defaults), as the specs of `drills.components._stack_specs`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from drills.components._members import Addressed

if TYPE_CHECKING:
    from drills.components.base import Bound, Credential, Endpoint, Live, Node

LOCALHOST = "127.0.0.1"  # where the host reaches a published port
T = TypeVar("T")
TIMEOUT_S = 3.0  # each effective-configuration read is short: a system that does not answer in it is a part not read


class RoleMapView(Protocol):
    """The stack's role map (`drills.stack.definition.RoleMap`)."""

    @property
    def roles(self) -> Mapping[str, Sequence[str]]: ...
    def members(self, group: str, services: Any) -> list[str]: ...


class SettingsView(Protocol):
    """One run's settings (`drills.stack.env.StackSettings`): its role map, its generated secrets
    (read by attribute, `secrets.app_password`), and why a pulled image's profile was left out."""

    @property
    def roles(self) -> RoleMapView: ...
    @property
    def secrets(self) -> Any: ...
    def not_run(self, profile: str) -> str:
        """Why the profile was left out ("" when it runs)."""
        ...


class DefinitionView(Protocol):
    """The stack file drilled (`drills.stack.definition.StackDefinition`)."""

    @property
    def path(self) -> Path: ...
    @property
    def spec(self) -> Any:
        """The stack file's model: `spec.components.<key>` is an entry as written (None: none)."""
        ...
    def component(self, key: str, model: type[T]) -> T:
        """The entry under `components.<key>` as `model`, else the defaults of that key."""
        ...
    def entry(self, key: str, model: type[T]) -> T | None: ...
    def bound(self) -> dict[str, Bound[Any]]: ...


class LegacyStack(Protocol):
    """What the legacy kinds' reads use of a running stack."""

    @property
    def settings(self) -> SettingsView: ...
    @property
    def definition(self) -> DefinitionView: ...
    def snapshot(self) -> Mapping[str, Any]: ...
    def members(self, snap: Mapping[str, Any], group: str) -> list[str]:
        """The services of a role group that have a container in `snap`."""
        ...
    def defined(self, group: str) -> tuple[str, ...]:
        """The services of a role as the role map says (those without a container too)."""
        ...
    def live(self, snap: Mapping[str, Any]) -> Live:
        """The stack as an adapter sees it, able to log in."""
        ...
    def credential(self, ref: Credential) -> str:
        """A password the stack file names, resolved; StackError when it cannot be."""
        ...
    def host_names(self, snap: Mapping[str, Any]) -> Mapping[str, tuple[str, ...]]:
        """service -> the names its running container answers to beyond what the snapshot shows."""
        ...


def endpoints(snap: Mapping[str, Node], services: Sequence[str], port: int) -> dict[str, Endpoint]:
    """service -> (127.0.0.1, published port) for the running ones that publish `port`."""
    found = {}
    for name in services:
        info = snap.get(name)
        if info is not None and info.state == "running" and port in info.ports:
            found[name] = (LOCALHOST, info.ports[port])
    return found


def service_by_ip(snap: Mapping[str, Node]) -> dict[str, str]:
    return {s.ip: s.service for s in snap.values() if s.ip}


def addressed(snap: Mapping[str, Any], more: Mapping[str, tuple[str, ...]] | None = None) -> list[Addressed]:
    """Each service's container as the stack network knows it: address, aliases, and `more` names."""
    more = more or {}
    return [Addressed(s.service, s.ip, (*s.aliases, *more.get(s.service, ()))) for s in snap.values()]
