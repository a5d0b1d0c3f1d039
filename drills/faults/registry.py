"""Every fault kind, once: the scenario schema (the `Step` union, `FAULT_KINDS`), `drill schema`,
`drill validate`, the runner and the ledger's heal actions all read this registry.

Every module of `drills.faults` but the protocol's own (`PROTOCOL`) is a fault module: it declares
`KINDS`, a tuple of `Fault`s (step model, inject, heal actions), and this registry collects them,
the modules of `FIRST` in that order, then the others by name. Adding a fault kind is one new
module and its tests, nothing else: `drills/faults/disk_full.py` is an example.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from drills.errors import DrillsError
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
    import drills.faults as package

    names = [m.name for m in pkgutil.iter_modules(package.__path__) if m.name not in PROTOCOL]
    return sorted(names, key=lambda n: (FIRST.index(n) if n in FIRST else len(FIRST), n))


def _discover() -> tuple[Fault[Any], ...]:
    found: list[Fault[Any]] = []
    for name in fault_modules():
        kinds = getattr(importlib.import_module(f"drills.faults.{name}"), "KINDS", None)
        if not (isinstance(kinds, tuple) and kinds and all(isinstance(k, Fault) for k in kinds)):
            raise DrillsError(f"drills.faults.{name} declares no fault kinds: give it KINDS, a tuple of Fault "
                              f"(or, for a module of the protocol itself, add it to registry.PROTOCOL)")
        found += kinds
    kinds_seen = [f.kind for f in found]
    if len(set(kinds_seen)) != len(kinds_seen):
        raise DrillsError(f"a fault kind is declared twice: {sorted(k for k in kinds_seen if kinds_seen.count(k) > 1)}")
    return tuple(found)


ALL: tuple[Fault[Any], ...] = _discover()
FAULTS: dict[str, Fault[Any]] = {f.kind: f for f in ALL}
STEP_MODELS: tuple[type[StepBase], ...] = tuple(f.step for f in ALL)
HEAL_ACTIONS: dict[str, type[HealAction]] = {a.kind: a for f in ALL for a in f.heals}


def fault_of(step: StepBase) -> Fault[Any]:
    return FAULTS[step.fault]


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
