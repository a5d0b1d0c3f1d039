"""Heal actions: typed, frozen records of how to undo a fault, stored in its ledger entry.

Each fault kind's module defines the actions its faults need (`Start` in `process`, `ComposeUp` in
`storage`, ...) on this base. An action is data first: `to_json()` is the ledger line's form
(`{"action": "start", "container": "drills-x-pg1-1"}`), read back by `from_json()` in any later
process, so a killed runner's faults are healed by whatever `drill` runs next.

Every action is idempotent (healing twice, the runner's finally and then `drill clean`, is
harmless), and checks that the container still carries the run's project label before touching it.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self

from drills.core.dockerlabels import require_owned
from drills.core.errors import FaultError

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container

Compose = Callable[..., None]


@dataclass(frozen=True)
class HealContext:
    """What healing needs: the engine, the project whose label every container must carry, and the
    project's `docker compose` (absent in a cleanup that removes the whole project anyway)."""

    client: docker.DockerClient
    project: str
    compose: Compose | None = None

    def container(self, name: str) -> Container | None:
        """The container, if it exists and belongs to the project; never anything else."""
        import docker.errors

        try:
            found = self.client.containers.get(name)
        except docker.errors.NotFound:
            return None
        return require_owned(found, self.project)


@dataclass(frozen=True)
class HealAction(ABC):
    """One step of undoing a fault. Subclasses are frozen dataclasses with JSON-able fields and a
    `kind`, the `action` name their ledger lines carry."""

    kind: ClassVar[str]

    @abstractmethod
    def heal(self, ctx: HealContext) -> None: ...

    def describe(self) -> str:
        """For messages: the action and what it acts on."""
        return f"{self.kind} {getattr(self, 'container', '')}".rstrip()

    def to_json(self) -> dict[str, Any]:
        """The ledger line's form: JSON's own types (tuples as lists)."""
        return {"action": self.kind, **{f.name: _listed(getattr(self, f.name)) for f in dataclasses.fields(self)}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """From a ledger line; lists become tuples, so an action read back equals the one written."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: _frozen(v) for k, v in data.items() if k in names})


def _frozen(value: Any) -> Any:
    return tuple(_frozen(v) for v in value) if isinstance(value, list) else value


def _listed(value: Any) -> Any:
    return [_listed(v) for v in value] if isinstance(value, tuple) else value


@dataclass(frozen=True)
class UnknownAction(HealAction):
    """A ledger line naming an action this version of Drills does not know: kept as written, and
    never taken for healed (healing it fails, so the entry stays pending and is reported)."""

    kind: ClassVar[str] = "unknown"
    data: dict[str, Any]

    def heal(self, ctx: HealContext) -> None:
        raise FaultError(f"unknown heal action {self.data.get('action')!r}: this version of Drills cannot undo it",
                         hint="heal it with the Drills version that applied it, or by hand")

    def describe(self) -> str:
        return f"{self.data.get('action')} {self.data.get('container', '')}".rstrip()

    def to_json(self) -> dict[str, Any]:
        return dict(self.data)
