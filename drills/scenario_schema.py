"""The typed model of a scenario file: frozen pydantic models, one per section, `extra="forbid"`.

A scenario is data only (chaostoolkit's lesson): which stack, which workload, which faults for how
long, and what the policy promises, as expectations with tolerances and a justification each.
Fault steps and expectations are tagged unions (`fault:` / `checker:`), so each kind accepts only
its own parameters and an editor with the JSON Schema (`drill schema`) completes them.

Imported only by `drills.scenario` and the modules that run drills: pydantic is not paid for by
`drill --help`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, get_args

from pydantic import Field

from drills.checkers.protocol import ExpectationModel
from drills.checkers.registry import CHECKERS as _CHECKERS
from drills.scenario_types import Duration, Float, Int, Model, Role
from drills.workload.registry import Workload

# A step's target `same`: the node(s) the previous step acted on, resolved then (drills.runner).
SAME_TARGET = "same"

# ---- stack and workload ---------------------------------------------------------------------------


class StackSpec(Model):
    file: str = Field("docker-compose.ha.yml", min_length=1, description="Compose file of the system under test.")
    overrides: tuple[str, ...] = Field((), description="Compose override files, applied in order.")
    profiles: tuple[str, ...] = Field((), description="Compose profiles to enable (e.g. mongo).")


# ---- fault steps: one model per kind, tagged by `fault` ------------------------------------------


class StepBase(Model):
    target: Role
    hold: Duration = Field(10.0, description="How long the fault stays applied.")
    heal: bool = Field(True, description="Heal (respawn, reconnect, unpause) at the end of the hold.")

    def params(self) -> dict[str, Any]:
        """The fault function's parameters (`drills.faults`), in its own units and names."""
        return {}


class Kill(StepBase):
    """SIGKILL the target's containers; the heal starts them again (same disks)."""

    fault: Literal["kill"]


class StopRespawn(StepBase):
    """Stop the target cleanly (SIGTERM, then SIGKILL after `timeout`); the heal starts it again."""

    fault: Literal["stop-respawn"]
    timeout: Duration = Field(10.0, description="Grace period before SIGKILL.")

    def params(self) -> dict[str, Any]:
        return {"timeout_s": max(0, round(self.timeout))}


class Pause(StepBase):
    """Freeze the target (SIGSTOP of every process: a GC-like pause); the heal resumes it."""

    fault: Literal["pause"]


class RestartServices(StepBase):
    """Restart the target's containers (the policy's "restart all services")."""

    fault: Literal["restart-services"]


class Partition(StepBase):
    """Cut the target off the network from `from` (default: its own component's other nodes)."""

    fault: Literal["partition"]
    from_: tuple[Role, ...] = Field((), alias="from", description="Roles cut off from the target; `clients` = the "
                                    "host and the app services. Default: the target's peers (postgres.* ...).")
    direction: Literal["both", "in", "out"] = Field(
        "both", description="both; in: the target hears nothing from them; out: it cannot send to them.")

    def params(self) -> dict[str, Any]:
        return {"from": list(self.from_), "direction": self.direction} if self.from_ else {"direction": self.direction}


class Latency(StepBase):
    """Delay every packet the target sends (tc netem)."""

    fault: Literal["latency"]
    delay: Duration = Field(..., description="Added one-way delay, e.g. 200ms.")
    jitter: Duration | None = Field(None, description="Random variation of the delay, e.g. 50ms.")

    def params(self) -> dict[str, Any]:
        out = {"delay_ms": self.delay * 1000}
        if self.jitter:
            out["jitter_ms"] = self.jitter * 1000
        return out


class Loss(StepBase):
    """Drop a share of the packets the target sends (tc netem)."""

    fault: Literal["loss"]
    percent: Float = Field(..., gt=0, le=100, description="Packets dropped, in percent.")

    def params(self) -> dict[str, Any]:
        return {"loss_percent": self.percent}


class DiskLoss(StepBase):
    """The target's disk is gone: container and volumes destroyed; the heal brings up a new, empty
    server with the same hostname (the policy's "new server, same hostname")."""

    fault: Literal["disk-loss"]


class Corrupt(StepBase):
    """Damage data files of the target while it is stopped; the heal starts it on them."""

    fault: Literal["corrupt"]
    files: Int = Field(3, ge=1, le=1000, description="How many data files to damage.")

    def params(self) -> dict[str, Any]:
        return {"files": self.files}


class TotalFailure(StepBase):
    """Every node of the target (e.g. postgres.*) fails at once: a global failure."""

    fault: Literal["total-failure"]
    keep_disks: bool = Field(False, description="Keep the volumes (a power cut) instead of losing them.")

    def params(self) -> dict[str, Any]:
        return {"keep_disks": self.keep_disks}


class RestoreBackup(StepBase):
    """Replace the target's data with its last backup (dump files or a disk snapshot)."""

    fault: Literal["restore-backup"]
    method: Literal["dump", "snapshot"] = Field("dump", description="dump: restore from dump files; "
                                                "snapshot: a new disk from a disk snapshot.")

    def params(self) -> dict[str, Any]:
        return {"method": self.method}


STEP_MODELS: tuple[type[StepBase], ...] = (Kill, StopRespawn, Pause, RestartServices, Partition, Latency, Loss,
                                           DiskLoss, Corrupt, TotalFailure, RestoreBackup)
FAULT_KINDS: tuple[str, ...] = tuple(get_args(m.model_fields["fault"].annotation)[0] for m in STEP_MODELS)
FaultKind = Literal["kill", "stop-respawn", "pause", "restart-services", "partition", "latency", "loss",
                    "disk-loss", "corrupt", "total-failure", "restore-backup"]
Step = Annotated[Kill | StopRespawn | Pause | RestartServices | Partition | Latency | Loss | DiskLoss | Corrupt
                 | TotalFailure | RestoreBackup, Field(discriminator="fault")]


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
