"""Every fault kind, once: the scenario schema (the `Step` union, `FAULT_KINDS`), `drill schema`,
`drill validate`, the runner and the ledger's heal actions all read this registry.

A module of `drills.faults` adds kinds by declaring `KINDS`, a tuple of `Fault`s (its step models,
injects and heal actions); this registry collects them, module by module in the order of
`MODULES`, then any other module in name order. Adding a fault kind is one new module, nothing
else: `drills/faults/disk_full.py` is the example.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from drills.errors import DrillsError
from drills.faults import ledger
from drills.faults.actions import HealAction, UnknownAction
from drills.faults.base import Fault, FaultContext
from drills.faults.step import StepBase

# The first kinds, in the order scenario files and error messages have always listed them.
MODULES = ("process", "partition", "netem", "storage", "restore")


def _discover() -> tuple[Fault[Any], ...]:
    import drills.faults as package

    names = sorted(m.name for m in pkgutil.iter_modules(package.__path__))
    found: list[Fault[Any]] = []
    for name in sorted(names, key=lambda n: (MODULES.index(n) if n in MODULES else len(MODULES), n)):
        module = importlib.import_module(f"{package.__name__}.{name}")
        kinds = getattr(module, "KINDS", ())
        if not all(isinstance(k, Fault) for k in kinds):
            raise DrillsError(f"drills.faults.{name}.KINDS must hold Fault objects only")
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


def inject(step: StepBase, ctx: FaultContext) -> ledger.Entry:
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
