"""What part of an exploration's fault space the schedules tried covered, and what they never drew:
"no invariant failed" means little without it (a search that drew only short pauses of the leader
says nothing of kills or of long pauses).

    coverage_of(exploration, schedules) -> Coverage      pure: the space and the schedules tried

The space is cut into cells: fault kind x target x hold bucket (each range cut into a few readable
buckets, `hold_buckets`) x how the step ran beside the others of its schedule (`ORDERS`: alone in a
one-step schedule, one after another, or overlapping a neighbour). Each step of a schedule tried
lands in exactly one cell; a cell no step landed in was never drawn. `drills.explore.coverage_view`
renders it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from drills.explore.space import single_steps
from drills.explore.strategy import DrawnStep, rank_targets
from drills.files.exploration import Exploration

ALONE = "alone"  # the only step of its schedule
IN_SEQUENCE = "in sequence"  # healed before the next step, applied after the previous one healed
OVERLAPPING = "overlapping"  # applied together with the step before or after it
ORDERS = (ALONE, IN_SEQUENCE, OVERLAPPING)

# Round widths a bucket's edges snap to, so that a range reads "1-4 s, 5-9 s, 10-15 s", not "1-5, 6-10, 11-15".
_ROUND_S = (1, 2, 5, 10, 20, 30, 60, 100, 300, 600, 1000, 1800, 3600)


@dataclass(frozen=True)
class HoldBucket:
    """Whole seconds from `low` to `high`, both included."""

    low: int
    high: int

    def __contains__(self, hold: object) -> bool:
        return isinstance(hold, int) and self.low <= hold <= self.high

    @property
    def label(self) -> str:
        return f"{self.low} s" if self.low == self.high else f"{self.low}-{self.high} s"


def hold_buckets(low: int, high: int, most: int = 3) -> tuple[HoldBucket, ...]:
    """The hold range cut into `most` buckets (fewer when it holds fewer seconds), contiguous, each
    second in exactly one; inner edges at round numbers when that keeps them apart."""
    count = min(most, high - low + 1)
    width = (high - low + 1) / count
    step = max((r for r in _ROUND_S if r <= width), default=1)
    edges = [low]  # each bucket's first second
    for i in range(1, count):
        even = low + round(i * width)
        snapped = round(even / step) * step
        first, last = edges[-1] + 1, high - (count - 1 - i)  # each bucket, this and those after, keeps a second
        # a round edge that would empty a bucket: the even one, within the same bounds
        edges.append(snapped if first <= snapped <= last else min(max(even, first), last))
    ends = [e - 1 for e in edges[1:]] + [high]
    return tuple(HoldBucket(a, b) for a, b in zip(edges, ends, strict=True))


@dataclass(frozen=True)
class Cell:
    """One part of the fault space: a kind on a target, held within a bucket, run in one order."""

    kind: str
    target: str
    hold: HoldBucket
    order: str

    def holds(self, step: DrawnStep, order: str) -> bool:
        return (step.kind, step.target, order) == (self.kind, self.target, self.order) and step.hold in self.hold


@dataclass(frozen=True)
class CellCount:
    """A cell and what landed in it: steps (a schedule may hold two) and schedules."""

    cell: Cell
    steps: int = 0
    schedules: int = 0


@dataclass(frozen=True)
class Coverage:
    """The cells of the space, in its order (the file's kinds, each's targets simple -> complex,
    holds shortest first), each with what landed in it; and distinct steps against the space's."""

    cells: tuple[CellCount, ...]
    orders: tuple[str, ...]  # the orders the space allows, the columns of a table
    schedules: int  # schedules counted
    steps_tried: int  # distinct steps among them (kind, target, hold, fields), whatever their order
    steps_in_space: int  # distinct steps the space holds, those its kinds refuse left out when counted
    refused_counted: bool  # False: too many combinations to count those refused; steps_in_space includes them
    outside: int = 0  # steps in no cell: a schedule kept from an earlier version of the file, replayed

    @property
    def tried(self) -> tuple[CellCount, ...]:
        return tuple(c for c in self.cells if c.steps)

    @property
    def never_drawn(self) -> tuple[Cell, ...]:
        return tuple(c.cell for c in self.cells if not c.steps)

    def holds_tried(self) -> tuple[int, int]:
        """Kind x target x hold cells (whatever the order) tried, and how many there are."""
        steps: dict[tuple[str, str, HoldBucket], int] = {}
        for c in self.cells:
            key = (c.cell.kind, c.cell.target, c.cell.hold)
            steps[key] = steps.get(key, 0) + c.steps
        return sum(1 for n in steps.values() if n), len(steps)

    def as_data(self) -> dict[str, Any]:
        """The coverage as summary.json holds it."""
        tried, total = self.holds_tried()
        return {
            "schedules": self.schedules, "orders": list(self.orders),
            "kind_target_hold": {"tried": tried, "of": total},
            "cells_tried": {"tried": len(self.tried), "of": len(self.cells)},
            "single_steps": {"tried": self.steps_tried, "of": self.steps_in_space,
                             "refused_counted": self.refused_counted},
            "outside": self.outside,
            "cells": [{"kind": c.cell.kind, "target": c.cell.target, "hold": c.cell.hold.label,
                       "hold_s": [c.cell.hold.low, c.cell.hold.high], "order": c.cell.order,
                       "steps": c.steps, "schedules": c.schedules} for c in self.cells],
            "never_drawn": [{"kind": c.kind, "target": c.target, "hold": c.hold.label, "order": c.order}
                            for c in self.never_drawn],
        }


def orders_of(exploration: Exploration) -> tuple[str, ...]:
    """The orders a schedule of this space may run a step in."""
    space = exploration.fault_space
    allowed = {ALONE: space.steps.min == 1, IN_SEQUENCE: space.steps.max > 1,
               OVERLAPPING: space.steps.max > 1 and space.overlap}
    return tuple(order for order in ORDERS if allowed[order])


def space_cells(exploration: Exploration, *, buckets: int = 3) -> tuple[Cell, ...]:
    """Every cell of the space. A kind listed twice with the same target takes the span of both
    holds, so that a step still lands in one cell."""
    holds: dict[tuple[str, str], tuple[int, int]] = {}
    for choice in exploration.fault_space.faults:
        low, high = exploration.hold_of(choice)
        for target in rank_targets(choice.targets):
            was = holds.get((choice.kind, target), (low, high))
            holds[(choice.kind, target)] = (min(was[0], low), max(was[1], high))
    orders = orders_of(exploration)
    return tuple(Cell(kind, target, bucket, order) for (kind, target), (low, high) in holds.items()
                 for bucket in hold_buckets(low, high, buckets) for order in orders)


def order_of(schedule: Sequence[DrawnStep], index: int) -> str:
    """How the step at `index` ran beside the others of its schedule."""
    if len(schedule) == 1:
        return ALONE
    step = schedule[index]
    if step.overlaps_next or (index > 0 and schedule[index - 1].overlaps_next):
        return OVERLAPPING
    return IN_SEQUENCE


def coverage_of(exploration: Exploration, schedules: Iterable[Sequence[DrawnStep]], *,
                buckets: int = 3) -> Coverage:
    """The cells the schedules landed in, and those they never drew. Each schedule counts once
    however often it ran (the caller decides which count: e.g. those some drill judged)."""
    cells = space_cells(exploration, buckets=buckets)
    index = {cell: i for i, cell in enumerate(cells)}
    by_step = {(c.kind, c.target, c.order, hold): c for c in cells for hold in range(c.hold.low, c.hold.high + 1)}
    steps, seen_in = [0] * len(cells), [set[int]() for _ in cells]
    distinct: set[DrawnStep] = set()
    outside = counted = 0
    for number, schedule in enumerate(schedules):
        counted += 1
        for i, step in enumerate(schedule):
            distinct.add(replace(step, overlaps_next=False))
            cell = by_step.get((step.kind, step.target, order_of(schedule, i), step.hold))
            if cell is None:
                outside += 1
                continue
            steps[index[cell]] += 1
            seen_in[index[cell]].add(number)
    total, refused = single_steps(exploration)
    return Coverage(tuple(CellCount(c, steps[i], len(seen_in[i])) for i, c in enumerate(cells)),
                    orders_of(exploration), counted, len(distinct), total - (refused or 0), refused is not None,
                    outside)
