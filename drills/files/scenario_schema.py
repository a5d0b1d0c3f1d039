"""The typed model of a scenario file: frozen pydantic models, one per section, `extra="forbid"`.

A scenario is data only (chaostoolkit's lesson): which stack, which workload, which faults for how
long, and what the policy promises, as expectations with tolerances and a justification each.
Fault steps and expectations are tagged unions (`fault:` / `checker:`), so each kind accepts only
its own parameters and an editor with the JSON Schema (`drill schema`) completes them.

Imported only by `drills.files.scenario` and the modules that run drills: pydantic is not paid for by
`drill --help`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal, Union

from pydantic import Field

from drills.checkers.protocol import ExpectationModel
from drills.checkers.registry import CHECKERS as _CHECKERS
from drills.components import registry
from drills.faults import registry as faults
from drills.faults.step import StepBase
from drills.spec.types import Duration, Model
from drills.workload.registry import WorkloadSection

# A step's target `same`: the node(s) the previous step acted on, resolved then (drills.run.runner).
SAME_TARGET = "same"

# ---- stack and workload ---------------------------------------------------------------------------

# The examples of the top-level fields' descriptions (a scenario's and an exploration's), the registry's:
# the first kinds of the vocabulary, and the first image a component needs pulled.
COMPONENT_EXAMPLES = ", ".join(tuple(registry.VOCABULARY)[:2])
IMAGE_EXAMPLE = next((p.reference for p in registry.pulled_images()), "")
REQUIRES = "Images that must be present" + (f", e.g. {IMAGE_EXAMPLE}" if IMAGE_EXAMPLE else "")


# ---- fault steps: one model per kind, tagged by `fault` ------------------------------------------


# Each fault kind's step model lives in its module (drills.faults.<kind>); the registry lists them once.
STEP_MODELS = faults.STEP_MODELS
FAULT_KINDS: tuple[str, ...] = tuple(faults.FAULTS)
if TYPE_CHECKING:
    Step = StepBase
else:
    Step = Annotated[Union[STEP_MODELS], Field(discriminator="fault")]  # noqa: UP007


# What a recovery may wait for: the containers, and each kind a stack waits to be ready (the registry's).
CONDITIONS: tuple[str, ...] = ("containers", *registry.ready_kinds())
if TYPE_CHECKING:
    Condition = str
else:
    Condition = Literal[CONDITIONS]


class Recovery(Model):
    timeout: Duration = Field(120.0, description="Give up waiting for recovery after this long.")
    conditions: tuple[Condition, ...] = Field(
        (), description="What must be ready again (drills.stack.readiness); empty: every component of the stack.")


# ---- expectations: one model per checker, tagged by `checker` ------------------------------------
# Each checker's model lives in its module (drills.checkers.<name>); the registry lists them once.

EXPECTATION_MODELS: tuple[type[ExpectationModel], ...] = tuple(c.model for c in _CHECKERS.values())
CHECKERS: tuple[str, ...] = tuple(_CHECKERS)
if TYPE_CHECKING:
    Expectation = ExpectationModel
else:
    Expectation = Annotated[Union[EXPECTATION_MODELS], Field(discriminator="checker")]  # noqa: UP007


# The kinds a scenario may back up, those with the most methods first, then by name: an order that
# stays as kinds move from the registry's legacy table into their adapters (the schema's enum with it).
BACKED_UP: tuple[str, ...] = tuple(sorted(registry.kinds_with("backups"),
                                          key=lambda kind: (-len(registry.scenario_methods(kind)), kind)))
if TYPE_CHECKING:
    BackedUp = str
else:
    BackedUp = Literal[BACKED_UP]
_DUMPS = " / ".join(registry.dump_words(kind) for kind in BACKED_UP)


class BackupSpec(Model):
    """Backups taken on a schedule while the workload runs (drills.backup.schedule), so the RPO is real."""

    component: BackedUp
    method: Literal["dump", "snapshot"] = Field(
        "dump", description=f"dump: {_DUMPS}; snapshot: a copy of a replica's disk.")
    interval: Duration = Field(10.0, gt=0, description="A backup starts every interval, from the end of the warm-up.")


class Scenario(Model):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="Unique, kebab-case.")]
    title: str = Field(..., min_length=1)
    policy: str = Field(..., min_length=1, description="The policy text this scenario encodes, verbatim.")
    component: str = Field("", description=f"Which component of the DR matrix ({COMPONENT_EXAMPLES}, ...).")
    suites: tuple[str, ...] = Field(("policy",), description="Suites this scenario belongs to (drill run --suite).")
    requires: tuple[str, ...] = Field((), description=f"{REQUIRES}; absent -> the scenario is NOT RUN.")
    workload: WorkloadSection = Field(..., min_length=1, description="Signals to drive, with their rate.")
    backup: BackupSpec | None = Field(None, description="Backups on a schedule while the workload runs "
                                                         "(needed by restore-backup, rpo, backup-integrity).")
    steady: Duration = Field(5.0, description="Steady state before the first fault.")
    steps: tuple[Step, ...] = Field(..., min_length=1)
    recovery: Recovery = Field(default_factory=Recovery)
    after: Duration = Field(5.0, description="Steady state after recovery, before final reads.")
    expectations: tuple[Expectation, ...] = Field(..., min_length=1)
