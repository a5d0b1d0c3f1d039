"""A scenario's `workload:` -> the running clients of every signal (`drills.run.runner.Workload`).

    workload = build_workload(scenario, stack, history.append, t0)
    workload.start(); ...; workload.stop(); workload.drain(); workload.final_reads()

Each signal is built by its kind (`drills.workload.registry`), which imports its driver only then
(psycopg, pika and pymongo cost import time, and MongoDB may not even run here). Here every
signal is run alike, through `drills.workload.signal.Driven`: nothing is known of any one signal.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from drills.workload.base import Sink, clock_from, stop_all
from drills.workload.signal import Driven, SignalContext, SignalSpec

if TYPE_CHECKING:
    from drills.workload.endpoints import StackLike

log = logging.getLogger(__name__)


@dataclass
class DrillWorkload:
    """Every signal of a drill, built by its kind."""

    signals: dict[str, Driven] = field(default_factory=dict)
    stuck: list[str] = field(default_factory=list)  # client threads that outlived stop()

    def start(self) -> None:
        for driven in self.signals.values():
            if driven.before_start is not None:
                driven.before_start()  # a consumer consumes before the first publish
        for driven in self.signals.values():
            driven.runner.start()

    def first_ok(self) -> set[str]:
        return {signal for signal, d in self.signals.items() if d.runner.first_ok.is_set()}

    def stop(self) -> None:
        self.stuck = stop_all([d.runner for d in self.signals.values()])
        if self.stuck:
            log.warning("client threads still in an op after stop: %s", ", ".join(self.stuck))

    def drain(self) -> bool:
        """Consume what the signals left in flight; True when every queue was emptied (or there is none)."""
        emptied = True
        for driven in self.signals.values():
            if driven.drain is not None:
                emptied = driven.drain() and emptied
        return emptied

    def final_reads(self) -> dict[str, Collection[object] | None]:
        """Each signal's data as the system holds it now, for those that offer a final read; None
        when it could not be read (the checker then says "not measured", never "passed"). Closes
        every signal after."""
        reads: dict[str, Collection[object] | None] = {}
        try:
            for signal, driven in self.signals.items():
                if driven.final_read is None:
                    continue
                try:
                    reads[signal] = driven.final_read()
                except Exception as exc:
                    log.warning("final read of %s failed: %s", signal, exc)
                    reads[signal] = None
        finally:
            self.close()
        return reads

    def close(self) -> None:
        for signal, driven in self.signals.items():
            if driven.close is None:
                continue
            try:
                driven.close()
            except Exception:
                log.debug("closing %s failed", signal, exc_info=True)

    def summary(self) -> dict[str, dict[str, float | int]]:
        return {signal: d.runner.summary() for signal, d in self.signals.items()}


class Plan(Protocol):
    """What the workload reads of a scenario (`drills.files.scenario.Scenario`, a layer above this one)."""

    @property
    def workload(self) -> Mapping[str, SignalSpec]: ...


def build_workload(scenario: Plan, stack: StackLike, sink: Sink, t0: float) -> DrillWorkload:
    """The clients of every signal of `scenario`, not started yet (`drills.run.runner.WorkloadFactory`)."""
    from drills.workload.registry import kind_of

    context = SignalContext(stack, sink, clock_from(t0), run=secrets.token_hex(6))
    workload = DrillWorkload()
    try:
        for signal, spec in scenario.workload.items():
            workload.signals[signal] = kind_of(signal).drive(spec, context)
    except BaseException:
        workload.close()  # the signals built so far: none is left holding a connection or a thread
        raise
    return workload
