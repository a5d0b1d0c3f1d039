"""What the components read of a running stack beyond what an adapter sees of it (`base.Live`): the
run's settings, its role map and the stack file, as `drills.stack` models them (`StackSettings`,
`RoleMap`, `StackDefinition`), structurally, since this package may not import that layer.

One Protocol per thing, shared by the legacy backups (`_backup_tools.BackupLive`) and the legacy
reads (`_legacy_stack.LegacyStack`), which extend `Reachable` and `Described`; a listed container is
`base.Node`, the Compose project `base.Stack`. They go with the legacy tables, when the adapters
declare what they read on `base.Live` (plans/components-protocol.md, phase C).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from drills.components.base import Bound, Credential, Node

LOCALHOST = "127.0.0.1"  # where the host reaches a published port
T = TypeVar("T")


class RoleMap(Protocol):
    """The stack's role map (`drills.stack.definition.RoleMap`)."""

    @property
    def roles(self) -> Mapping[str, Sequence[str]]: ...
    def members(self, group: str, services: Any) -> list[str]:
        """The services of `group` among `services` (names, or a mapping keyed by name)."""
        ...


class Secrets(Protocol):
    """The run's generated secrets (`drills.stack.env.Secrets`), read by attribute."""

    @property
    def app_password(self) -> str: ...
    @property
    def mongo_root_password(self) -> str: ...


class Settings(Protocol):
    """One run's settings (`drills.stack.env.StackSettings`)."""

    @property
    def project(self) -> str: ...
    @property
    def roles(self) -> RoleMap: ...
    @property
    def ports(self) -> Mapping[str, int]:
        """The host ports `drill stack up` fixed (`DRILLS_PORT_*` -> port)."""
        ...
    @property
    def secrets(self) -> Secrets: ...
    def pulled_image(self, profile: str) -> str:
        """The image a pulled component's profile runs (`PulledImage.profile`)."""
        ...
    def not_run(self, profile: str) -> str:
        """Why the profile was left out ("" when it runs)."""
        ...


class Definition(Protocol):
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


class Reachable(Protocol):
    """A stack whose services' ports the host reaches (the signals' `StackLike` is one too)."""

    @property
    def settings(self) -> Settings: ...
    def snapshot(self) -> Mapping[str, Node]: ...


class Described(Reachable, Protocol):
    """A stack with its stack file, whose credentials it resolves."""

    @property
    def definition(self) -> Definition: ...
    def credential(self, ref: Credential) -> str:
        """A password the stack file names, resolved; StackError when it cannot be."""
        ...
