"""The fault space in words: what `drill explore` prints before it draws (and its report shows)."""

from __future__ import annotations

import itertools

from drills.exploration import Exploration, FaultChoice, view_of
from drills.explore.strategy import Step, drawable, rank_targets


def combinations(choice: FaultChoice) -> list[Step]:
    """Every step of a fault choice at its shortest hold: each target with each value of each field."""
    names = sorted(choice.with_)
    return [Step(choice.kind, target, 0, tuple(zip(names, values, strict=True)))
            for target in rank_targets(choice.targets)
            for values in itertools.product(*(choice.with_[name] for name in names))]


def single_steps(exploration: Exploration) -> tuple[int, int]:
    """How many different steps the space holds (kind x target x hold x each field's values), and
    how many of those its kinds refuse (never drawn)."""
    view = view_of(exploration.model_dump(mode="json", by_alias=True))
    total = refused_steps = 0
    for choice in exploration.fault_space.faults:
        low, high = exploration.hold_of(choice)
        steps = combinations(choice)
        total += len(steps) * (high - low + 1)
        refused_steps += sum(1 for step in steps if not drawable(step, view)) * (high - low + 1)
    return total, refused_steps


def describe(exploration: Exploration) -> list[str]:
    space = exploration.fault_space
    total, never = single_steps(exploration)
    order = ("one after another, a step may stay applied through the next" if space.overlap else
             "one after another, each healed before the next")
    refused = f" ({never:,} more that their fault kinds refuse, never drawn)" if never else ""
    lines = [f"exploration {exploration.id}: {exploration.title}",
             f"fault space: {space.steps.min}-{space.steps.max} step(s), {order}; {total - never:,} different "
             f"steps{refused}"]
    for choice in space.faults:
        low, high = exploration.hold_of(choice)
        fields = "".join(f"; {name}: {' | '.join(map(_shown, values))}" for name, values in choice.with_.items())
        lines.append(f"  {choice.kind} on {', '.join(rank_targets(choice.targets))}; hold {low}-{high} s{fields}")
    lines.append("invariants: " + "; ".join(f"{inv.checker}" + (f" {sig}" if (sig := getattr(inv, 'signal', None))
                                                               else "") for inv in exploration.invariants))
    return lines


def _shown(value: object) -> str:
    return "[" + ", ".join(map(str, value)) + "]" if isinstance(value, list | tuple) else str(value)
