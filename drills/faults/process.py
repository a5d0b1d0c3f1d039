"""Process faults: kill (SIGKILL), stop-respawn, pause (a GC-like freeze), restart-services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from drills.faults.actions import HealAction, HealContext
from drills.faults.base import Fault, FaultContext, apply, targets
from drills.faults.entry import Entry
from drills.faults.step import StepBase
from drills.spec.types import Duration

if TYPE_CHECKING:
    from docker.models.containers import Container

# ---- steps -------------------------------------------------------------------------------------


class Kill(StepBase):
    """SIGKILL the target's containers; the heal starts them again (same disks)."""

    fault: Literal["kill"]


class StopRespawn(StepBase):
    """Stop the target cleanly (SIGTERM, then SIGKILL after `timeout`); the heal starts it again."""

    fault: Literal["stop-respawn"]
    timeout: Duration = Field(10.0, description="Grace period before SIGKILL.")

    @property
    def timeout_s(self) -> int:
        """Docker's stop timeout: whole seconds."""
        return max(0, round(self.timeout))


class Pause(StepBase):
    """Freeze the target (SIGSTOP of every process: a GC-like pause); the heal resumes it."""

    fault: Literal["pause"]


class RestartServices(StepBase):
    """Restart the target's containers (the policy's "restart all services")."""

    fault: Literal["restart-services"]


# ---- heal actions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Start(HealAction):
    """Start (or unpause) a container that is not running."""

    kind: ClassVar[str] = "start"
    container: str

    def heal(self, ctx: HealContext) -> None:
        c = ctx.container(self.container)
        if c is not None and c.status != "running":
            if c.status == "paused":
                c.unpause()
            else:
                c.start()


@dataclass(frozen=True)
class Unpause(HealAction):
    kind: ClassVar[str] = "unpause"
    container: str

    def heal(self, ctx: HealContext) -> None:
        c = ctx.container(self.container)
        if c is not None:
            c.reload()
            if c.status == "paused":
                c.unpause()


# ---- inject ----------------------------------------------------------------------------------------


def _each(containers: list[Container], method: str, **kwargs: Any) -> Callable[[], None]:
    def do() -> None:
        for c in containers:
            getattr(c, method)(**kwargs)

    return do


FREEZE_ATTEMPTS = 4


def _pause_each(containers: list[Container], wait_s: float = 1.0) -> Callable[[], None]:
    """`docker pause` each container. The cgroup freezer can give up on a busy machine ("OCI
    runtime pause failed: unable to freeze", seen under a load of 50: some task did not reach the
    frozen state in runc's time) and runc thaws the container again: that is retried, a few
    times; any other refusal is not."""
    import time

    from docker.errors import APIError

    def do() -> None:
        for c in containers:
            for attempt in range(FREEZE_ATTEMPTS):
                try:
                    c.pause()
                    break
                except APIError as exc:
                    if "unable to freeze" not in str(exc) or attempt + 1 == FREEZE_ATTEMPTS:
                        raise
                    time.sleep(wait_s)

    return do


def kill(step: Kill, ctx: FaultContext) -> Entry:
    found = targets(ctx.stack, step.target)
    return apply(ctx, "kill", [Start(str(c.name)) for c in found], _each(found, "kill"))


def stop(step: StopRespawn, ctx: FaultContext) -> Entry:
    found = targets(ctx.stack, step.target)
    return apply(ctx, "stop", [Start(str(c.name)) for c in found], _each(found, "stop", timeout=step.timeout_s))


def pause(step: Pause, ctx: FaultContext) -> Entry:
    found = targets(ctx.stack, step.target)
    return apply(ctx, "pause", [Unpause(str(c.name)) for c in found], _pause_each(found))


def restart(step: RestartServices, ctx: FaultContext) -> Entry:
    """Restart services (the policy's "restart all services"): nothing to heal but a stopped one."""
    found = targets(ctx.stack, step.target)
    return apply(ctx, "restart", [Start(str(c.name)) for c in found], _each(found, "restart", timeout=5))


KILL = Fault(Kill, kill, heals=(Start,))
STOP_RESPAWN = Fault(StopRespawn, stop, heals=(Start,))
PAUSE = Fault(Pause, pause, heals=(Unpause,))
RESTART_SERVICES = Fault(RestartServices, restart, heals=(Start,))

# The kinds this module adds to the registry (drills.faults.registry), in this order.
KINDS = (KILL, STOP_RESPAWN, PAUSE, RESTART_SERVICES)
