"""What every fault step of a scenario file has: a target, a hold, and whether to heal.

Each fault kind's module defines its own step model on this base (`fault: Literal[...]` and its
parameters), and the scenario's `Step` union is built from the registry (`drills.faults.registry`).
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from drills.spec.types import Bool, Duration, Model, Role


class StepBase(Model):
    fault: str  # each kind narrows it to its Literal name: the union's tag
    target: Role
    hold: Duration = Field(10.0, description="How long the fault stays applied.")
    heal: Bool = Field(True, description="Heal (respawn, reconnect, unpause) at the end of the hold.")
    overlaps_next: Bool = Field(False, description=(
        "Stay applied through the next step: the next step is injected at the end of this one's hold, "
        "and this one heals with it, at the end of the next step's hold (after it, latest first)."))


def heals_after(steps: Sequence[StepBase]) -> list[tuple[int, ...]]:
    """For each step, the steps healed at the end of its hold, in order: itself (unless `heal:
    false`), then those that stayed applied through it (`overlaps_next`), latest first. A step
    with `heal: false` is healed by no step: it stays applied until the drill's end."""
    plan: list[tuple[int, ...]] = []
    through: list[int] = []
    for i, step in enumerate(steps):
        if step.heal and step.overlaps_next and i < len(steps) - 1:
            through.append(i)
            plan.append(())
            continue
        plan.append(((i,) if step.heal else ()) + tuple(reversed(through)))
        through.clear()
    return plan
