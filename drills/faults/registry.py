"""Every fault kind, once: the scenario schema (the `Step` union, `FAULT_KINDS`), `drill schema`,
`drill validate`, the runner and the ledger's heal actions all read this registry.

Every module of `drills.faults` but the protocol's own (`PROTOCOL`) is a fault module: it declares
`KINDS`, a tuple of `Fault`s (step model, inject, heal actions), and this registry collects them,
the modules of `FIRST` in that order, then the others by name. Adding a fault kind is one new
module and its tests, nothing else: `drills/faults/disk_full.py` is an example. The rule and its
errors are `drills.core.discovery`'s, shared with the checkers and the signals.
"""

from __future__ import annotations

from typing import Any, TypeGuard

from drills.core.discovery import declared, indexed, lookup, modules_of
from drills.faults.actions import HealAction, UnknownAction
from drills.faults.base import Fault, FaultContext
from drills.faults.entry import Entry
from drills.faults.step import StepBase

# The modules of the protocol itself: no fault kinds in them (and some import this registry).
PROTOCOL = frozenset({"actions", "base", "entry", "heal", "ledger", "netns", "registry", "step"})
# The first kinds, in the order scenario files and error messages have always listed them.
FIRST = ("process", "partition", "netem", "storage", "restore")


def fault_modules() -> list[str]:
    """The fault modules of `drills.faults`, in the registry's order."""
    return modules_of("drills.faults", skip=PROTOCOL, first=FIRST)


def _kinds(value: object) -> TypeGuard[tuple[Fault[Any], ...]]:
    return isinstance(value, tuple) and bool(value) and all(isinstance(k, Fault) for k in value)


def _discover() -> tuple[Fault[Any], ...]:
    found = declared("drills.faults", "KINDS", _kinds, "a non-empty tuple of Fault", skip=PROTOCOL, first=FIRST)
    return tuple(indexed(((d.module, k) for d in found for k in d.value), lambda f: f.kind, "fault kind").values())


ALL: tuple[Fault[Any], ...] = _discover()
FAULTS: dict[str, Fault[Any]] = {f.kind: f for f in ALL}
STEP_MODELS: tuple[type[StepBase], ...] = tuple(f.step for f in ALL)
HEAL_ACTIONS: dict[str, type[HealAction]] = {a.kind: a for f in ALL for a in f.heals}


def fault_of(step: StepBase) -> Fault[Any]:
    return lookup(FAULTS, step.fault, "fault kind")


def inject(step: StepBase, ctx: FaultContext) -> Entry:
    """Apply the step's fault; its heal is in the ledger before the fault touches anything."""
    return fault_of(step).inject(step, ctx)


def heal_action(data: dict[str, Any]) -> HealAction:
    """A heal action as a ledger line holds it. One this version does not know, or cannot read, is
    kept as written and fails to heal (`UnknownAction`), so its entry stays pending and is reported."""
    cls = HEAL_ACTIONS.get(str(data.get("action")))
    if cls is not None:
        try:
            return cls.from_json(data)
        except TypeError:  # a field missing: not an action this version can run
            pass
    return UnknownAction(dict(data))
