"""The fault space in words: what `drill explore` prints before it draws (and its report shows)."""

from __future__ import annotations

import math

from drills.exploration import Exploration
from drills.explore.strategy import rank_targets


def single_steps(exploration: Exploration) -> int:
    """How many different steps the space holds: kind x target x hold x each field's values."""
    total = 0
    for choice in exploration.fault_space.faults:
        low, high = exploration.hold_of(choice)
        total += len(rank_targets(choice.targets)) * (high - low + 1) * math.prod(map(len, choice.with_.values()))
    return total


def describe(exploration: Exploration) -> list[str]:
    space = exploration.fault_space
    lines = [f"exploration {exploration.id}: {exploration.title}",
             f"fault space: {space.steps.min}-{space.steps.max} step(s), one after another, each healed before "
             f"the next; {single_steps(exploration):,} different steps"]
    for choice in space.faults:
        low, high = exploration.hold_of(choice)
        fields = "".join(f"; {name}: {' | '.join(map(_shown, values))}" for name, values in choice.with_.items())
        lines.append(f"  {choice.kind} on {', '.join(rank_targets(choice.targets))}; hold {low}-{high} s{fields}")
    lines.append("invariants: " + "; ".join(f"{inv.checker}" + (f" {sig}" if (sig := getattr(inv, 'signal', None))
                                                               else "") for inv in exploration.invariants))
    return lines


def _shown(value: object) -> str:
    return "[" + ", ".join(map(str, value)) + "]" if isinstance(value, list | tuple) else str(value)
