"""Hypothesis strategies that draw a schedule (a list of steps) from an exploration's fault space.

Built so that Hypothesis shrinks a failing schedule toward the one a person would write first:

- the steps are a list (`st.lists`), so shrinking drops steps, down to the space's minimum;
- the fault kinds are a `one_of` in the file's order, so shrinking moves toward the first listed;
- the targets are drawn from a list ordered simple -> complex (`rank_targets`): one node before a
  role that may be several nodes, before a whole group;
- a hold is an integer number of seconds from the range's minimum up, so it shrinks toward it;
- each field of `with:` takes one of its listed values, shrinking toward the first.

A `DrawnStep` knows nothing of the runner: `drills.explore.schedule` makes a scenario of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from hypothesis import strategies as st

from drills.checkers.protocol import FileView
from drills.components import registry
from drills.core.roles import CLIENTS
from drills.files.exploration import Exploration, FaultChoice, refused, view_of

# Roles that stand for one node whatever the stack: who leads (asked of the live system).
_ONE_NODE = registry.single_selectors()
# Groups that are components or every app container: `postgres`, `etcd`, `clients`, ...
_GROUPS = frozenset({*registry.VOCABULARY, CLIENTS})


@dataclass(frozen=True)
class DrawnStep:
    """One step of a drawn schedule: a fault kind on a role for a whole number of seconds, with the
    values drawn for the kind's own fields (as the file spells them: `from`, `direction`)."""

    kind: str
    target: str
    hold: int
    fields: tuple[tuple[str, Any], ...] = ()
    overlaps_next: bool = False  # stays applied through the next step's hold, heals with it

    def as_data(self) -> dict[str, Any]:
        """The step as a scenario file holds it (lists where the file had lists)."""
        fields = {name: _thawed(value) for name, value in self.fields}
        return {"fault": self.kind, "target": self.target, **fields, "hold": f"{self.hold}s",
                **({"overlaps_next": True} if self.overlaps_next else {})}

    def __str__(self) -> str:
        extra = "".join(f" {k}={_shown(v)}" for k, v in self.fields)
        return f"{self.kind} {self.target}{extra} {self.hold}s" + (" (through the next)" if self.overlaps_next else "")


def frozen(value: Any) -> Any:
    """A value of `with:` as a step holds it: lists as tuples, so that a schedule is hashable (the
    search remembers the verdict of each schedule it ran)."""
    return tuple(map(frozen, value)) if isinstance(value, list | tuple) else value


def _thawed(value: Any) -> Any:
    return list(map(_thawed, value)) if isinstance(value, tuple) else value


def _shown(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


def breadth(role: str) -> int:
    """How many nodes a role may name, as a rank: 0 one node (an index, a leader or primary),
    1 a role of several nodes or a service name (replicas, `pg2` or the stem `dashboard`), 2 a
    whole component or every app container (`postgres.*`, `etcd`, `clients`)."""
    ref = registry.role(role)
    if ref.index is not None or ref.base_selector in _ONE_NODE:
        return 0
    if ref.selector == "*" and ref.group in _GROUPS:
        return 2
    return 1


def rank_targets(targets: Sequence[str]) -> list[str]:
    """The targets simple -> complex (`breadth`), in the file's order within a rank, duplicates dropped."""
    unique = list(dict.fromkeys(t.strip() for t in targets))
    return sorted(unique, key=breadth)  # sorted() is stable: the file's order within a rank


def steps_of(exploration: Exploration, choice: FaultChoice,
             view: FileView | None = None) -> st.SearchStrategy[DrawnStep]:
    """One step of this fault kind: a target, a hold, a value for each field of `with:`. A
    combination the kind's own checks refuse (a partition of `postgres.*` from `postgres.*`) is
    never drawn; `drill validate` has made sure each target and value is in one it accepts."""
    low, high = exploration.hold_of(choice)
    names = sorted(choice.with_)
    fields = st.tuples(*(st.sampled_from([frozen(v) for v in choice.with_[name]]) for name in names))
    steps = st.builds(
        lambda target, hold, values: DrawnStep(choice.kind, target, hold, tuple(zip(names, values, strict=True))),
        st.sampled_from(rank_targets(choice.targets)), st.integers(low, high), fields)
    view = view or view_of(exploration.model_dump(mode="json", by_alias=True))
    return steps.filter(lambda step: drawable(step, view))


def drawable(step: DrawnStep, view: FileView) -> bool:
    """Whether the step's fault kind accepts it in this file (its cross-field checks)."""
    return not refused(step.kind, step.as_data(), view)


def schedules(exploration: Exploration) -> st.SearchStrategy[list[DrawnStep]]:
    """Schedules of the exploration's fault space: `steps.min` to `steps.max` steps, one after another;
    with `overlap: true`, each but the last may stay applied through the next (drawn as a boolean,
    which shrinks toward not overlapping)."""
    space = exploration.fault_space
    view = view_of(exploration.model_dump(mode="json", by_alias=True))
    step = st.one_of(*(steps_of(exploration, choice, view) for choice in space.faults))
    if not space.overlap:
        return st.lists(step, min_size=space.steps.min, max_size=space.steps.max)
    pairs = st.lists(st.tuples(step, st.booleans()), min_size=space.steps.min, max_size=space.steps.max)
    return pairs.map(_overlapping)


def _overlapping(pairs: list[tuple[DrawnStep, bool]]) -> list[DrawnStep]:
    """Each step overlapping the next as drawn; the last has no next."""
    return [replace(s, overlaps_next=through and i < len(pairs) - 1) for i, (s, through) in enumerate(pairs)]
