"""A scenario's `workload:` -> the running clients of every signal (`drills.runner.Workload`).

    workload = build_workload(scenario, stack, history.append, t0)
    workload.start(); ...; workload.stop(); workload.drain(); workload.final_reads()

Each signal's client module is imported only when a scenario uses it (psycopg, pika and pymongo
cost import time, and MongoDB may not even run here). Clients get plain data (endpoints as the
host reaches them, credentials), never the stack object: they are testable without one.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from drills.errors import HarnessError, StackError
from drills.workload.base import Client, SignalRunner, Sink, clock_from, stop_all

if TYPE_CHECKING:
    from drills.scenario import Scenario, SignalSpec
    from drills.stack.env import StackSettings
    from drills.stack.services import ServiceInfo
    from drills.workload.rabbitmq import Drained, RabbitSignal

log = logging.getLogger(__name__)

LOCALHOST = "127.0.0.1"
LB_SERVICE, LB_PORT = "lb", 8080
# rabbitmq.publish starts a publish on every slot of its grid (drills.workload.rabbitmq_pipelined)
# instead of one at a time, waiting for each confirm (drills.workload.rabbitmq.Publisher): while
# the broker does not confirm, the synchronous one starts nothing for 5 s and an outage's end is
# known to within 5 s. Not in the scenario schema: a choice of the harness.
RABBIT_PIPELINED = True


class StackLike(Protocol):
    """What the workload needs of a stack (`drills.stack.ComposeProject` is one)."""

    @property
    def settings(self) -> StackSettings: ...
    def snapshot(self) -> dict[str, ServiceInfo]: ...


def published(stack: StackLike, service: str, port: int,
              snap: Mapping[str, ServiceInfo] | None = None) -> tuple[str, int] | None:
    """Where the host reaches `port` of `service`: the host port `drill stack up` picked for it
    (stable across restarts of the container, so a client keeps reaching a respawned node), else
    what Docker published for the running container now, else None."""
    variable = f"DRILLS_PORT_{service.upper().replace('-', '_')}_{port}"
    fixed = stack.settings.ports.get(variable)
    if fixed:
        return LOCALHOST, int(fixed)
    info = (snap if snap is not None else stack.snapshot()).get(service)
    if info is not None and port in info.ports:
        return LOCALHOST, info.ports[port]
    return None


def group_endpoints(stack: StackLike, component: str, port: int) -> tuple[tuple[str, int], ...]:
    from drills.stack.roles import group_members

    snap = stack.snapshot()
    found = [published(stack, s, port, snap) for s in group_members(component, snap)]
    endpoints = tuple(e for e in found if e is not None)
    if not endpoints:
        raise StackError(f"no {component} node of {stack.settings.project} publishes port {port}")
    return endpoints


class Runner(Protocol):
    """What drives a signal: `drills.workload.base.SignalRunner`, or a runner with its client inside
    (`drills.workload.rabbitmq_pipelined.PipelinedPublisher`)."""

    signal: str
    first_ok: threading.Event

    def start(self) -> None: ...
    def stop(self, timeout_s: float = ...) -> list[str]: ...
    def request_stop(self) -> None: ...
    def summary(self) -> dict[str, float | int]: ...


class Closable(Protocol):
    def close(self) -> None: ...


class Reader(Protocol):
    def final_read(self) -> set[Any]: ...


@dataclass
class DrillWorkload:
    """Every signal's runner, the RabbitMQ consumer, and what reads data back at the end."""

    runners: dict[str, Runner] = field(default_factory=dict)
    readers: dict[str, Reader] = field(default_factory=dict)
    rabbit: RabbitSignal | None = None
    closers: list[Closable] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)  # client threads that outlived stop()
    drained: Drained | None = None

    def start(self) -> None:
        if self.rabbit is not None:
            self.rabbit.consumer.start()  # consuming before the first publish
        for runner in self.runners.values():
            runner.start()

    def first_ok(self) -> set[str]:
        return {signal for signal, r in self.runners.items() if r.first_ok.is_set()}

    def stop(self) -> None:
        self.stuck = stop_all(list(self.runners.values()))
        if self.stuck:
            log.warning("client threads still in an op after stop: %s", ", ".join(self.stuck))

    def drain(self) -> bool:
        """Consume what is left in the drill's queue; True when it was emptied (or there is none)."""
        if self.rabbit is None:
            return True
        self.drained = self.rabbit.drain()
        return self.drained.emptied

    def final_reads(self) -> dict[str, Collection[object] | None]:
        """Each writing signal's data as the system holds it now; None when it could not be read
        (the checker then says "not measured", never "passed"). Closes every client after."""
        reads: dict[str, Collection[object] | None] = {}
        try:
            for signal, reader in self.readers.items():
                try:
                    reads[signal] = reader.final_read()
                except Exception as exc:
                    log.warning("final read of %s failed: %s", signal, exc)
                    reads[signal] = None
        finally:
            self.close()
        return reads

    def close(self) -> None:
        for c in self.closers:
            try:
                c.close()
            except Exception:
                log.debug("closing a signal failed", exc_info=True)

    def summary(self) -> dict[str, dict[str, float | int]]:
        return {signal: r.summary() for signal, r in self.runners.items()}


def build_workload(scenario: Scenario, stack: StackLike, sink: Sink, t0: float, *,
                   pipelined: bool = RABBIT_PIPELINED) -> DrillWorkload:
    """The clients of every signal of `scenario`, not started yet (`drills.runner.WorkloadFactory`).
    `pipelined`: rabbitmq.publish with `PipelinedPublisher` rather than the synchronous `Publisher`."""
    clock = clock_from(t0)
    run = secrets.token_hex(6)
    workload = DrillWorkload()
    for signal, spec in scenario.workload.items():
        make = _builder(signal, spec, stack=stack, sink=sink, clock=clock, run=run, workload=workload)
        if signal == "rabbitmq.publish" and pipelined and workload.rabbit is not None:
            from drills.workload.rabbitmq_pipelined import PipelinedPublisher

            rabbit = workload.rabbit
            publisher = PipelinedPublisher(rabbit.target, rabbit.setup, sink, clock, rate=spec.rate,
                                           processes=spec.clients, signal=signal)
            workload.runners[signal] = publisher
            workload.closers.insert(0, publisher)  # before the consumer (RabbitSignal) closes
            continue
        workload.runners[signal] = SignalRunner(signal, make, sink, clock, rate=spec.rate, processes=spec.clients)
    return workload


def _builder(signal: str, spec: SignalSpec, *, stack: StackLike, sink: Sink, clock: Callable[[], float], run: str,
             workload: DrillWorkload) -> Callable[[int], Client]:
    password = stack.settings.secrets.app_password
    if signal == "postgres.write":
        from drills.stack.postgres import PG_PORT
        from drills.workload.postgres import PostgresSignal, PostgresTarget

        pg = PostgresSignal(PostgresTarget(group_endpoints(stack, "postgres", PG_PORT), password))
        workload.readers[signal] = pg
        workload.closers.append(pg)
        return pg.client
    if signal == "rabbitmq.publish":
        from drills.stack.rabbitmq import AMQP_PORT
        from drills.workload.rabbitmq import RabbitSignal, RabbitTarget

        rabbit = RabbitSignal(RabbitTarget(group_endpoints(stack, "rabbitmq", AMQP_PORT), password, run), sink, clock)
        workload.rabbit = rabbit
        workload.closers.append(rabbit)
        return rabbit.client
    if signal == "mongo.write":
        from drills.stack.mongo import PORT as MONGO_PORT
        from drills.workload.mongo import MongoSignal, MongoTarget, replica_set_name

        try:
            endpoints = group_endpoints(stack, "mongo", MONGO_PORT)
        except StackError as exc:
            raise HarnessError(f"mongo.write: {exc}", hint="the scenario needs the `mongo` profile "
                                                           "(requires: [mongo:7])") from exc
        mongo = MongoSignal(MongoTarget(endpoints, password, replica_set=replica_set_name(_compose_text()),
                                        write_concern=spec.write_concern))
        workload.readers[signal] = mongo
        workload.closers.append(mongo)
        return mongo.client
    if signal in ("http.dashboard", "http.session"):
        from drills.workload.http import HealthProbe, HttpTarget, SessionProbe

        lb = published(stack, LB_SERVICE, LB_PORT)
        if lb is None:
            raise HarnessError(f"{signal}: the load balancer `{LB_SERVICE}` publishes no port {LB_PORT}")
        target = HttpTarget(f"http://{lb[0]}:{lb[1]}")
        if signal == "http.dashboard":
            return lambda _process: HealthProbe(target)
        return lambda _process: SessionProbe(target)
    if signal == "e2e.notify":
        from drills.workload.e2e import SINK_HTTP_PORT, SINK_SERVICE, NotificationWatch, SinkTarget

        sink_ep = published(stack, SINK_SERVICE, SINK_HTTP_PORT)
        if sink_ep is None:
            raise HarnessError(f"e2e.notify: no `{SINK_SERVICE}` service publishing port {SINK_HTTP_PORT} "
                               "in this stack (the app tier is not there yet)")
        target_url = f"http://{sink_ep[0]}:{sink_ep[1]}/messages"
        return lambda _process: NotificationWatch(SinkTarget(target_url))
    raise HarnessError(f"no client for signal {signal!r}")


def _compose_text() -> str:
    from drills.stack.project import compose_file

    try:
        return compose_file().read_text()
    except OSError:
        return ""
