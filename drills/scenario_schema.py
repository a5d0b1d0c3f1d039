"""The typed model of a scenario file: frozen pydantic models, one per section, `extra="forbid"`.

A scenario is data only (chaostoolkit's lesson): which stack, which workload, which faults for how
long, and what the policy promises, as expectations with tolerances and a justification each.
Fault steps and expectations are tagged unions (`fault:` / `checker:`), so each kind accepts only
its own parameters and an editor with the JSON Schema (`drill schema`) completes them.

Imported only by `drills.scenario` and the modules that run drills: pydantic is not paid for by
`drill --help`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, ClassVar, Literal, Union, get_args

from pydantic import Field

from drills.faults import registry
from drills.faults.step import StepBase
from drills.scenario_types import Duration, Float, Int, Model
from drills.workload.registry import Signal, Workload, WriteSignal

# ---- names ----------------------------------------------------------------------------------------

COMPONENTS = ("postgres", "rabbitmq", "mongo")

# A step's target `same`: the node(s) the previous step acted on, resolved then (drills.runner).
SAME_TARGET = "same"

# ---- stack and workload ---------------------------------------------------------------------------


class StackSpec(Model):
    file: str = Field("docker-compose.ha.yml", min_length=1, description="Compose file of the system under test.")
    overrides: tuple[str, ...] = Field((), description="Compose override files, applied in order.")
    profiles: tuple[str, ...] = Field((), description="Compose profiles to enable (e.g. mongo).")


# ---- fault steps: one model per kind, tagged by `fault` ------------------------------------------

# Each fault kind's module defines its step model (drills.faults.<kind>); the registry lists them.
STEP_MODELS = registry.STEP_MODELS
FAULT_KINDS: tuple[str, ...] = tuple(registry.FAULTS)
if TYPE_CHECKING:
    Step = StepBase
else:
    Step = Annotated[Union[STEP_MODELS], Field(discriminator="fault")]  # noqa: UP007 (a tuple of types)


class Recovery(Model):
    timeout: Duration = Field(120.0, description="Give up waiting for recovery after this long.")
    conditions: tuple[Literal["containers", "postgres", "rabbitmq", "mongo"], ...] = Field(
        (), description="What must be ready again (drills.stack.readiness); empty: every component of the stack.")


# ---- expectations: one model per checker, tagged by `checker` ------------------------------------

Why = Annotated[str, Field(min_length=1, description="Why this bound: the policy line and the arithmetic.")]


class Availability(Model):
    """Outage windows, error rates and RTO of one signal (drills.checkers.availability)."""

    checker: Literal["availability"]
    signal: Signal
    max_outage: Duration | None = Field(None, description="Longest outage window allowed.")
    max_error_rate: Float | None = Field(None, ge=0, le=1, description="Failed ops / ops over the whole drill.")
    max_error_rate_during_fault: Float | None = Field(None, ge=0, le=1,
                                                      description="Failed ops / ops between injection and heal.")
    max_rto: Duration | None = Field(None, description="From the injection to sustained success.")
    sustain: Duration = Field(1.0, description="Success must hold this long to count as recovered.")
    sustain_ops: Int = Field(1, ge=1, description="... and for at least this many ops in a row.")
    why: Why

    # At least one bound is required of a scenario *file* (drills.scenario.semantic_problems); a
    # model built in code without one yields a NOT MEASURED verdict ("no bound given").
    BOUNDS: ClassVar[tuple[str, ...]] = ("max_outage", "max_error_rate", "max_error_rate_during_fault", "max_rto")


class LostWrites(Model):
    """Acknowledged writes absent from the final read (drills.checkers.lost_writes)."""

    checker: Literal["lost-writes"]
    signal: WriteSignal
    max_lost: Int = Field(0, ge=0, description="Acknowledged writes that may be lost (the RPO, in writes).")
    why: Why


class QueueLoss(Model):
    """Confirmed messages never consumed after a full drain (drills.checkers.queue)."""

    checker: Literal["queue"]
    max_lost: Int = Field(0, ge=0)
    max_duplicates: Int | None = Field(None, ge=0, description="Absent: duplicates are counted, not bounded.")
    why: Why


class Resync(Model):
    """Every member back and every replica caught up after the heal (drills.checkers.resync)."""

    checker: Literal["resync"]
    max_resync: Duration
    component: Literal["postgres", "rabbitmq", "mongo"] | None = Field(
        None, description="Default: the scenario's component.")
    max_lag: Float = Field(0, ge=0, description="Replication lag that still counts as in sync (bytes).")
    why: Why


class SteadyState(Model):
    """Success rate of each signal before the fault and after recovery (drills.checkers.steady_state)."""

    checker: Literal["steady-state"]
    min_success_rate: Float = Field(0.99, ge=0, le=1)
    min_ops: Int = Field(5, ge=1, description="Fewer ops in a window than this: not measured.")
    signals: tuple[Signal, ...] = Field((), description="Default: every signal of the workload.")
    why: Why


class Sessions(Model):
    """Users whose in-memory dashboard session was lost with an instance (drills.checkers.sessions)."""

    checker: Literal["sessions"]
    signal: Literal["http.session"] = "http.session"
    max_lost_share: Float = Field(1.0, ge=0, le=1, description="Share of users (session processes) that may lose "
                                                               "their session. Always: only sessions held by the "
                                                               "lost instances, and every such user logs in again.")
    why: Why


class SplitBrain(Model):
    """Never two leaders at once (drills.checkers.split_brain), from the leaders sampled through the drill."""

    checker: Literal["split-brain"]
    component: Literal["postgres"] = "postgres"
    max_overlap: Duration = Field(0.0, description="Longest time two nodes may both act as the writable leader.")
    why: Why


class Rpo(Model):
    """Acknowledged writes lost by a restore from backup, against the backup schedule (drills.checkers.rpo).

    Writes acknowledged before the restored backup began and absent after the restore are never
    allowed (the backup or the restore lost data it held); only writes acknowledged after it may
    be lost. The data-loss window is bounded by what the schedule promises as configured and as
    measured in the run (drills.checkers.backup_schedule), not by a number in the file."""

    checker: Literal["rpo"]
    signal: WriteSignal
    max_rpo: Duration | None = Field(None, description="The policy's own RPO target, if it states one. The bound "
                                                      "is always the schedule's promise as run: from the restored "
                                                      "backup's slot to the next, plus the longest backup measured.")
    max_lost: Int | None = Field(None, ge=0, description="Acknowledged writes that may be lost; default: rate x "
                                                         "(RPO bound + the failure's own course), rounded up.")
    why: Why


class BackupIntegrity(Model):
    """The restore holds exactly what its backup held: rows and checksum (drills.checkers.backup_integrity)."""

    checker: Literal["backup-integrity"]
    max_rto: Duration | None = Field(None, description="From the failure (first injection) to the restore verified.")
    why: Why


EXPECTATION_MODELS: tuple[type[Model], ...] = (Availability, LostWrites, QueueLoss, Resync, SteadyState, Sessions,
                                               SplitBrain, Rpo, BackupIntegrity)
CHECKERS: tuple[str, ...] = tuple(get_args(m.model_fields["checker"].annotation)[0] for m in EXPECTATION_MODELS)
Expectation = Annotated[Availability | LostWrites | QueueLoss | Resync | SteadyState | Sessions | SplitBrain
                        | Rpo | BackupIntegrity, Field(discriminator="checker")]


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
    stack: StackSpec = Field(default_factory=StackSpec)
    requires: tuple[str, ...] = Field((), description="Images that must be present, e.g. mongo:7; "
                                                      "absent -> the scenario is NOT RUN.")
    workload: Workload = Field(..., min_length=1, description="Signals to drive, with their rate.")
    backup: BackupSpec | None = Field(None, description="Backups on a schedule while the workload runs "
                                                         "(needed by restore-backup, rpo, backup-integrity).")
    steady: Duration = Field(5.0, description="Steady state before the first fault.")
    steps: tuple[Step, ...] = Field(..., min_length=1)
    recovery: Recovery = Field(default_factory=Recovery)
    after: Duration = Field(5.0, description="Steady state after recovery, before final reads.")
    expectations: tuple[Expectation, ...] = Field(..., min_length=1)
