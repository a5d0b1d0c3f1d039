"""The fault space in words: what `drill explore` prints before it draws (and its report shows)."""

from __future__ import annotations

from drills.checkers.protocol import FileView
from drills.explore.strategy import DrawnStep, frozen, rank_targets
from drills.files.exploration import Combinations, Exploration, FaultChoice, check_combinations, view_of
from drills.files.scenario_schema import Step


def combinations_of(choice: FaultChoice, view: FileView) -> Combinations:
    """What the fault kind's cross-field checks say of the choice's combinations (each target with
    each value of each field), within `drills.files.exploration.MAX_CHECKED_VALUES`."""
    values = {name: list(enumerate(choice.with_[name])) for name in sorted(choice.with_)}
    return check_combinations(choice.kind, list(enumerate(rank_targets(choice.targets))), values, view)


def witness_steps(exploration: Exploration) -> list[DrawnStep]:
    """Drawable steps (at their shortest hold) that together hold every target and value a schedule
    may draw: what a stack must have for any schedule of the space to run on it."""
    view = view_of(exploration.model_dump(mode="json", by_alias=True))
    steps: dict[DrawnStep, None] = {}
    for choice in exploration.fault_space.faults:
        low, _ = exploration.hold_of(choice)
        for data in combinations_of(choice, view).witness.values():
            fields = tuple((name, frozen(data[name])) for name in sorted(choice.with_))
            steps[DrawnStep(choice.kind, data["target"], low, fields)] = None
    return list(steps)


def single_steps(exploration: Exploration) -> tuple[int, int | None]:
    """How many different steps the space holds (kind x target x hold x each field's values), and
    how many of those its kinds refuse (never drawn); None when there were too many to check them all."""
    view = view_of(exploration.model_dump(mode="json", by_alias=True))
    total = 0
    refused_steps: int | None = 0
    for choice in exploration.fault_space.faults:
        low, high = exploration.hold_of(choice)
        combos = combinations_of(choice, view)
        total += combos.total * (high - low + 1)
        refused_steps = refused_steps + combos.refused * (high - low + 1) \
            if combos.complete and refused_steps is not None else None
    return total, refused_steps


def describe(exploration: Exploration) -> list[str]:
    space = exploration.fault_space
    total, never = single_steps(exploration)
    order = ("one after another, a step may stay applied through the next" if space.overlap else
             "one after another, each healed before the next")
    if never is None:
        steps = f"{total:,} different steps (too many to count those their fault kinds refuse, never drawn)"
    else:
        refused = f" ({never:,} more that their fault kinds refuse, never drawn)" if never else ""
        steps = f"{total - never:,} different steps{refused}"
    lines = [f"exploration {exploration.id}: {exploration.title}",
             f"fault space: {space.steps.min}-{space.steps.max} step(s), {order}; {steps}"]
    for choice in space.faults:
        low, high = exploration.hold_of(choice)
        fields = "".join(f"; {name}: {' | '.join(map(_shown, values))}" for name, values in choice.with_.items())
        lines.append(f"  {choice.kind} on {', '.join(rank_targets(choice.targets))}; hold {low}-{high} s{fields}")
    if space.then:
        lines.append("then, after every schedule: " + "; ".join(map(_fixed, space.then)))
    lines.append("invariants: " + "; ".join(f"{inv.checker}" + (f" {sig}" if (sig := getattr(inv, 'signal', None))
                                                               else "") for inv in exploration.invariants))
    return lines


def _fixed(step: Step) -> str:
    """A fixed step as the file wrote it: kind, target, its own fields, hold."""
    data = step.model_dump(mode="json", by_alias=True, exclude_unset=True)
    fields = "".join(f" {k}={_shown(v)}" for k, v in data.items() if k not in ("fault", "target", "hold"))
    return f"{step.fault} {step.target}{fields} {step.hold:g}s"


def _shown(value: object) -> str:
    return "[" + ", ".join(map(str, value)) + "]" if isinstance(value, list | tuple) else str(value)
