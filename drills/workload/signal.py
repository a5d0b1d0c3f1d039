"""The signal protocol: what one kind of workload signal is, and what it is given to run.

A signal kind is one module of `drills.workload.signals` that holds `KIND = SignalKind(...)`:

    name        how scenario files spell it: postgres.write
    model       its entry under `workload:`: a `SignalSpec` (rate, clients) or a subclass with the
                kind's own fields (mongo.write's write_concern)
    records     the ops it writes into the history: their signal, kind and what `value` holds
    final_read  what it reads back once the drill is over (lost-writes, rpo), in words; None when
                it offers no final read
    requires    signals that must run beside it (postgres.read reads what postgres.write writes)
    build       (its spec, a `SignalContext`) -> `Driven`: its clients, not started yet

The registry (`drills.workload.registry`) finds the modules; the scenario schema, `drill schema`,
`drill validate` and the workload (`drills.workload.suite`) read the registry, so adding a signal
touches its own module and its tests, nothing else. `build` imports the signal's driver (psycopg,
pika, pymongo) when it is called: reading the registry, as `drill validate` does, imports none.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from pydantic import Field

from drills.core.errors import HarnessError
from drills.spec.types import Float, Int, Model
from drills.workload.base import Client, Clock, SignalRunner, Sink
from drills.workload.endpoints import StackLike, group_endpoints, published

if TYPE_CHECKING:
    from drills.components.base import Credential
    from drills.stack.definition import StackDefinition


class SignalSpec(Model):
    """The fields every signal's entry under `workload:` has."""

    rate: Float = Field(50.0, gt=0, le=2000, description="Operations per second for the whole signal; "
                                                         "50 gives 20 ms resolution to outages and RTO.")
    clients: Int = Field(1, ge=1, le=32, description="Concurrent client processes sharing the rate.")


@dataclass(frozen=True)
class OpRecord:
    """One sort of op a signal writes into the history (`drills.core.history.Op`)."""

    signal: str  # Op.signal: the signal's name, or a companion's (rabbitmq.publish records rabbitmq.consume)
    kind: str  # Op.kind: write, read, publish, consume, probe, session
    value: str  # what Op.value holds, in words


class Runner(Protocol):
    """What drives a signal: `SignalRunner` (a client per process, one op in flight each), or a
    runner with its client inside (`drills.workload.rabbitmq_pipelined.PipelinedPublisher`)."""

    signal: str
    first_ok: threading.Event  # set at the signal's first ok op (the drill's warm-up waits for it)

    def start(self) -> None: ...
    def stop(self, timeout_s: float = ...) -> list[str]: ...
    def request_stop(self) -> None: ...
    def summary(self) -> dict[str, float | int]: ...


@dataclass
class Driven:
    """One signal of a drill, built and not started: its runner, and what it offers at the end."""

    runner: Runner
    # Every value the system holds now, read back after the runners stopped; it may raise (the
    # checkers then say "not measured"). None: the signal offers no final read.
    final_read: Callable[[], Collection[object]] | None = None
    # Consume what the signal left in flight (a queue); True when it was emptied.
    drain: Callable[[], bool] | None = None
    before_start: Callable[[], None] | None = None  # runs before any runner starts (a consumer)
    close: Callable[[], None] | None = None  # after the final reads: drop connections, end threads


@dataclass(frozen=True)
class SignalContext:
    """What a signal is given to build its clients: where the stack is, where ops go, the clock."""

    stack: StackLike
    sink: Sink
    clock: Clock
    run: str  # this drill's token: what a signal leaves in the system carries it (RabbitMQ messages)

    @property
    def password(self) -> str:
        """The application's password for the components whose stack-file entry has a flat `user`
        (DRILLS_APP_PASSWORD); a component with `users:` logins is asked with `credential`."""
        return self.stack.settings.secrets.app_password

    def credential(self, ref: Credential) -> str:
        """The value of a password the stack file names (a login's): StackError naming the field
        and what to add when it cannot be read."""
        return self.stack.credential(ref)

    @property
    def definition(self) -> StackDefinition:
        """The stack file: which database, queue, users and balancer the signals exercise."""
        return self.stack.definition

    def endpoints(self, component: str, port: int) -> tuple[tuple[str, int], ...]:
        """Every node of `component` as the host reaches `port` (StackError when none does)."""
        return group_endpoints(self.stack, component, port)

    def published(self, service: str, port: int) -> tuple[str, int] | None:
        return published(self.stack, service, port)

    def paced(self, name: str, spec: SignalSpec, make_client: Callable[[int], Client]) -> SignalRunner:
        """The usual runner: `spec.clients` processes, each with its client, at `spec.rate` in all."""
        return SignalRunner(name, make_client, self.sink, self.clock, rate=spec.rate, processes=spec.clients)


S = TypeVar("S", bound=SignalSpec)


@dataclass(frozen=True)
class SignalKind(Generic[S]):
    """A kind of signal (see the module docstring)."""

    name: str
    model: type[S]
    records: tuple[OpRecord, ...]
    final_read: str | None
    build: Callable[[S, SignalContext], Driven]
    requires: tuple[str, ...] = ()
    description: str = ""
    # The roles of a stack the signal drives (a component, a role of the stack's map or a service);
    # a stack without one of them cannot run the signal. Default: the component its name starts with.
    roles: tuple[str, ...] = ()

    def needs(self) -> tuple[str, ...]:
        return self.roles or (self.name.partition(".")[0],)

    def drive(self, spec: SignalSpec, context: SignalContext) -> Driven:
        """Build the signal from its entry of a scenario's `workload:`."""
        if not isinstance(spec, self.model):
            raise HarnessError(f"{self.name}: its workload entry is a {type(spec).__name__}, not a "
                               f"{self.model.__name__}", hint="load scenarios through drills.files.scenario")
        return self.build(spec, context)
