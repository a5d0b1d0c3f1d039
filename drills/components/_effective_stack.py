"""What the effective configuration's readers of the kinds whose adapters have not moved in yet
read of a running stack (`EffectiveStack`), and the few reads they share: a role's services with
a container, where the host reaches a port of each, how the stack network knows each container.

`EffectiveStack` is the slice of a stack those readers use (the run's settings and the stack file's
entries as `drills.stack` models them, structurally), so this layer stays below the stack's:
`drills.stack.effective_sources.EffectiveStack` (a `ComposeProject`) is one. It goes with the
legacy table when the adapters read their parts through `components.base.Live`
(docs/plans/components-protocol.md, C-P2, C-R2, C-M2, C-H1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from drills.components._members import Addressed

if TYPE_CHECKING:
    import docker

    from drills.components._patroni_spec import PostgresSpec
    from drills.components._postgres_spec import PostgresBase
    from drills.components.base import BalancerSpec, Bound, Credential

TIMEOUT_S = 3.0  # each read is short: a system that does not answer in it is a part not read
LOCALHOST = "127.0.0.1"
Endpoint = tuple[str, int]


class Service(Protocol):
    """One service's container as the engine lists it (`drills.stack.services.ServiceInfo`)."""

    @property
    def service(self) -> str: ...
    @property
    def container_id(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def ip(self) -> str | None: ...
    @property
    def ports(self) -> Mapping[int, int]: ...
    @property
    def aliases(self) -> tuple[str, ...]: ...


class RoleLookup(Protocol):
    """The stack's role map (`drills.stack.definition.RoleMap`)."""

    @property
    def roles(self) -> Mapping[str, tuple[str, ...]]: ...
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
    def roles(self) -> RoleLookup: ...
    @property
    def secrets(self) -> GeneratedSecrets: ...
    @property
    def mongo_not_run(self) -> str:
        """Why MongoDB is left out ("" when it runs)."""
        ...


class HaproxyEntry(Protocol):
    """The stack file's HAProxy balancer (`drills.stack.definition.HttpSpec`)."""

    @property
    def adapter(self) -> str: ...
    @property
    def balancer(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def backend(self) -> str: ...
    @property
    def stats_path(self) -> str: ...


class RabbitEntry(Protocol):
    @property
    def management_port(self) -> int: ...
    @property
    def user(self) -> str: ...


class MongoEntry(Protocol):
    @property
    def port(self) -> int: ...
    @property
    def root_user(self) -> str: ...


class ComponentEntries(Protocol):
    """The stack file's `components:` as written (None: the entry is not there)."""

    @property
    def mongo(self) -> MongoEntry | None: ...
    @property
    def http(self) -> HaproxyEntry | BalancerSpec | None: ...


class StackFileSpec(Protocol):
    @property
    def components(self) -> ComponentEntries: ...


class Definition(Protocol):
    """The stack file (`drills.stack.definition.StackDefinition`): each entry, else its defaults."""

    @property
    def spec(self) -> StackFileSpec: ...
    def postgres(self) -> PostgresBase: ...
    def postgres_bound(self) -> Bound[Any] | None:
        """The PostgreSQL component when an adapter of the registry runs it (repmgr)."""
        ...
    def legacy_postgres(self) -> PostgresSpec: ...
    def bound(self) -> Mapping[str, Bound[Any]]:
        """The stack file's entries whose adapter is in `drills.components`, by key."""
        ...
    def rabbitmq(self) -> RabbitEntry: ...
    def mongo(self) -> MongoEntry: ...


class Placing(Protocol):
    """What placing a cluster's members on the stack's services reads (`drills.stack.topology.StackView`)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def definition(self) -> Definition: ...
    def host_names(self, snap: Mapping[str, Any]) -> Mapping[str, tuple[str, ...]]:
        """service -> the names its running container answers to beyond what the snapshot shows."""
        ...


class EffectiveStack(Placing, Protocol):
    """What the legacy kinds' readers of the effective configuration read of a running stack."""

    @property
    def client(self) -> docker.DockerClient: ...
    def defined_services(self) -> tuple[str, ...]: ...
    def credential(self, ref: Credential) -> str: ...


def endpoints(snap: Mapping[str, Service], services: Sequence[str], port: int) -> dict[str, Endpoint]:
    """service -> (127.0.0.1, published port) for the running ones that publish `port`."""
    found = {}
    for name in services:
        info = snap.get(name)
        if info is not None and info.state == "running" and port in info.ports:
            found[name] = (LOCALHOST, info.ports[port])
    return found


def members(stack: Placing, snap: Mapping[str, Service], group: str) -> list[str]:
    """The services of a role (a component, or any role of the stack's map) that have a container."""
    return stack.settings.roles.members(group, snap)


def addressed(snap: Mapping[str, Service], more: Mapping[str, tuple[str, ...]] | None = None) -> list[Addressed]:
    """Each service's container as the stack network knows it: address, aliases, and `more` names."""
    more = more or {}
    return [Addressed(s.service, s.ip, (*s.aliases, *more.get(s.service, ()))) for s in snap.values()]
