"""Exceptions raised by Drills.

Every error carries a message that tells the user what to do next. The tree:

    DrillsError                      base of everything Drills raises on purpose
    ├── SetupError                   the machine cannot run drills (engine, compose, images)
    │   └── EngineUnavailable        no Docker engine answers
    ├── ScenarioError                a scenario file is invalid (file, line, column, field)
    ├── StackError                   the stack under test could not be brought up or inspected
    ├── FaultError                   a fault could not be injected or healed
    ├── RegistryError                a fault kind, checker, signal or sampler module breaks the rule of its
    │                                registry (`drills.core.discovery`), or a name none of them declares
    └── HarnessError                 the harness itself failed mid-drill

CLI exit codes map onto this tree: ScenarioError -> 2, other DrillsError -> 3.
"""

from __future__ import annotations


class DrillsError(Exception):
    """Base class: a failure Drills understands and can explain."""

    exit_code = 3

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base}\n  fix: {self.hint}" if self.hint else base


class SetupError(DrillsError):
    """The machine lacks something drills need."""


class EngineUnavailable(SetupError):
    """No Docker engine answers on this machine."""


class ScenarioError(DrillsError):
    """A scenario file is invalid; raised before anything starts."""

    exit_code = 2


class StackError(DrillsError):
    """The stack under test could not be brought up, inspected or torn down."""


class FaultError(DrillsError):
    """A fault could not be injected or healed."""


class RegistryError(DrillsError):
    """A registry (fault kinds, checkers, signals) cannot be built from its package, or was asked
    for a name it does not hold; the message names the module, or lists the names it holds."""


class HarnessError(DrillsError):
    """The harness failed for a reason of its own."""
