"""The fault protocol: what a fault kind is, what it is handed, and the one way it is applied.

A fault kind is a `Fault`: its typed step model (what a scenario file may say), its `inject`, and
the heal actions its ledger entries hold. `inject(step, ctx)` gets the typed step and a
`FaultContext` (the stack, the fault's id, the drill's history and clock, its backups: the way
Jepsen hands each nemesis the test map), never a global. It returns the ledger entry, whose heal
actions `apply` writes to the ledger *before* the fault touches anything.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, get_args

from drills.core.dockerlabels import require_owned
from drills.core.errors import FaultError
from drills.core.events import DrillEvent, write
from drills.faults.actions import HealAction
from drills.faults.entry import Entry, record_applying
from drills.faults.step import StepBase

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container

    from drills.backup.catalog import Catalog
    from drills.checkers.protocol import FileView
    from drills.core.history import Recorder

Loc = tuple[int | str, ...]
# Cross-field mistakes of one step in a scenario file (the step's plain data, the whole file's),
# each at a path inside the step: `drill validate` reports them before anything starts.
Problems = Callable[[Mapping[str, Any], "FileView"], Iterable[tuple[Loc, str]]]


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

    def defined_services(self) -> tuple[str, ...]:
        """Every service the Compose file defines, with a container or not."""
        ...


@dataclass(frozen=True)
class FaultContext:
    """What a fault is handed besides its step. `recorder`/`clock`: the drill's history and its
    clock (seconds since the drill began), for events a checker reads; `backups`: the backups the
    drill's schedule took (None without a `backup:` section)."""

    stack: FaultTarget
    fault_id: str
    recorder: Recorder | None = None
    clock: Callable[[], float] = time.monotonic
    backups: Catalog | None = None

    def record(self, event: DrillEvent) -> None:
        """Record one of the drill's events (drills.core.events) in its history; stamp it with `clock()`."""
        if self.recorder is not None:
            write(self.recorder, event)


S = TypeVar("S", bound=StepBase)


@dataclass(frozen=True)
class Fault(Generic[S]):
    """One fault kind, as `drills.faults.registry` lists it."""

    step: type[S]  # its step model; `fault: Literal["<kind>"]` names the kind
    inject: Callable[[S, FaultContext], Entry]
    heals: tuple[type[HealAction], ...]  # every action its ledger entries may hold
    # Injected from the drill's backups: the runner waits in the steady phase until the schedule has
    # completed one, and stops the schedule before injecting (no backup of the new, empty cluster).
    needs_backup: bool = False
    problems: Problems | None = None

    @property
    def kind(self) -> str:
        return str(get_args(self.step.model_fields["fault"].annotation)[0])


def apply(ctx: FaultContext, kind: str, heal: Sequence[HealAction], do: Callable[[], None]) -> Entry:
    """Write the entry with its heal to the ledger (fsynced), then apply the fault. `kind` is the
    name the ledger and `drill clean` show."""
    entry = Entry(fault_id=ctx.fault_id, kind=kind, project=ctx.stack.project, heal=tuple(heal))
    record_applying(entry)
    do()
    return entry


def targets(stack: FaultTarget, role: str) -> list[Container]:
    found = stack.containers(role)
    if not found:
        raise FaultError(f"no container has the role {role!r} in {stack.project} right now",
                         hint="check `drill stack status`; roles are resolved when the fault starts")
    for c in found:
        require_owned(c, stack.project)
    return found


def helper_image(client: docker.DockerClient) -> str:
    """The image of short-lived helper containers that work on a node's volumes (the base image
    every stack image is built from: a shell, coreutils, util-linux)."""
    from drills.provision import base_image

    found = base_image.resolve(client)
    if found is None:
        raise FaultError("no base image for the helper containers of faults", hint="run `drill setup`")
    return found
