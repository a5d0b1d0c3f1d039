"""A drill as the runner executes it: the timeline, with every duration in seconds.

Scenario files (see `drills.scenario`) are what users write; `DrillPlan` is what the runner needs,
so the runner never depends on the file format's details.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FaultStep:
    kind: str  # a key of drills.faults.registry.FAULTS
    target: str  # a role, resolved when the step starts
    params: dict[str, Any] = field(default_factory=dict)
    hold_s: float = 10.0  # how long the fault stays applied
    heal: bool = True  # False: the fault is permanent until the recovery (e.g. a respawn step follows)


@dataclass(frozen=True)
class Expectation:
    checker: str
    params: dict[str, Any] = field(default_factory=dict)
    why: str = ""


@dataclass(frozen=True)
class DrillPlan:
    id: str
    title: str
    policy: str
    signals: dict[str, float]  # signal -> ops per second
    steps: tuple[FaultStep, ...]
    expectations: tuple[Expectation, ...]
    steady_s: float = 5.0
    recovery_timeout_s: float = 120.0
    after_s: float = 5.0  # steady state after recovery, before final reads
    signal_params: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def scheduled_s(self) -> float:
        """The time the scenario itself asks for (holds and steady windows), without recovery."""
        return self.steady_s + sum(s.hold_s for s in self.steps) + self.after_s
