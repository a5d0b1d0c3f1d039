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
from drills.faults import registry as faults
from drills.faults.step import StepBase
from drills.spec.types import Duration, Model
from drills.workload.registry import WorkloadSection

# A step's target `same`: the node(s) the previous step acted on, resolved then (drills.run.runner).
SAME_TARGET = "same"

# ---- stack and workload ---------------------------------------------------------------------------


# ---- fault steps: one model per kind, tagged by `fault` ------------------------------------------


# Each fault kind's step model lives in its module (drills.faults.<kind>); the registry lists them once.
STEP_MODELS = faults.STEP_MODELS
FAULT_KINDS: tuple[str, ...] = tuple(faults.FAULTS)
if TYPE_CHECKING:
    Step = StepBase
else:
    Step = Annotated[Union[STEP_MODELS], Field(discriminator="fault")]  # noqa: UP007


class Recovery(Model):
    timeout: Duration = Field(120.0, description="Give up waiting for recovery after this long.")
    conditions: tuple[Literal["containers", "postgres", "rabbitmq", "mongo"], ...] = Field(
        (), description="What must be ready again (drills.stack.readiness); empty: every component of the stack.")


# ---- expectations: one model per checker, tagged by `checker` ------------------------------------
# Each checker's model lives in its module (drills.checkers.<name>); the registry lists them once.

EXPECTATION_MODELS: tuple[type[ExpectationModel], ...] = tuple(c.model for c in _CHECKERS.values())
CHECKERS: tuple[str, ...] = tuple(_CHECKERS)
if TYPE_CHECKING:
    Expectation = ExpectationModel
else:
    Expectation = Annotated[Union[EXPECTATION_MODELS], Field(discriminator="checker")]  # noqa: UP007


class BackupSpec(Model):
    """Backups taken on a schedule while the workload runs (drills.backup.schedule), so the RPO is real."""

    component: Literal["postgres", "mongo", "rabbitmq"]
    method: Literal["dump", "snapshot"] = Field("dump", description="dump: pg_dump / mongodump / RabbitMQ "
                                                "definitions export; snapshot: a copy of a replica's disk.")
    interval: Duration = Field(10.0, gt=0, description="A backup starts every interval, from the end of the warm-up.")


class Scenario(Model):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="Unique, kebab-case.")]
    title: str = Field(..., min_length=1)
    policy: str = Field(..., min_length=1, description="The policy text this scenario encodes, verbatim.")
    component: str = Field("", description="Which component of the DR matrix (postgres, rabbitmq, ...).")
    suites: tuple[str, ...] = Field(("policy",), description="Suites this scenario belongs to (drill run --suite).")
    requires: tuple[str, ...] = Field((), description="Images that must be present, e.g. mongo:7; "
                                                      "absent -> the scenario is NOT RUN.")
    workload: WorkloadSection = Field(..., min_length=1, description="Signals to drive, with their rate.")
    backup: BackupSpec | None = Field(None, description="Backups on a schedule while the workload runs "
                                                         "(needed by restore-backup, rpo, backup-integrity).")
    steady: Duration = Field(5.0, description="Steady state before the first fault.")
    steps: tuple[Step, ...] = Field(..., min_length=1)
    recovery: Recovery = Field(default_factory=Recovery)
    after: Duration = Field(5.0, description="Steady state after recovery, before final reads.")
    expectations: tuple[Expectation, ...] = Field(..., min_length=1)
