"""What every fault step of a scenario file has: a target, a hold, and whether to heal.

Each fault kind's module defines its own step model on this base (`fault: Literal[...]` and its
parameters), and the scenario's `Step` union is built from the registry (`drills.faults.registry`).
"""

from __future__ import annotations

from pydantic import Field

from drills.scenario_types import Bool, Duration, Model, Role


class StepBase(Model):
    fault: str  # each kind narrows it to its Literal name: the union's tag
    target: Role
    hold: Duration = Field(10.0, description="How long the fault stays applied.")
    heal: Bool = Field(True, description="Heal (respawn, reconnect, unpause) at the end of the hold.")
