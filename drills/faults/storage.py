"""Storage faults: disk loss, data corruption, total failure of a component.

Each ends the way the policy prescribes: "spin a new server in the same cluster with the same
hostname" — the container is recreated by Compose under the same service name, on a new empty
volume, and the database's own replication has to re-sync it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field

from drills.core.dockerlabels import helper_labels, service_of, volumes_of
from drills.faults.actions import HealAction, HealContext
from drills.faults.base import Fault, FaultContext, FaultTarget, apply, helper_image, targets
from drills.faults.entry import Entry
from drills.faults.process import Start
from drills.faults.step import StepBase
from drills.spec.types import Bool, Int

if TYPE_CHECKING:
    from docker.models.containers import Container

CORRUPT_SCRIPT = r"""
set -e
# Overwrite 4 KiB in the middle of the largest data files: what a failing disk or a bad write does.
find /data -type f -size +16k -printf '%s %p\n' | sort -rn | head -n "$1" | while read -r size path; do
  dd if=/dev/urandom of="$path" bs=4096 count=1 seek=$(( size / 8192 )) conv=notrunc status=none
  echo "corrupted $path"
done
"""

# ---- steps -------------------------------------------------------------------------------------


class DiskLoss(StepBase):
    """The target's disk is gone: container and volumes destroyed; the heal brings up a new, empty
    server with the same hostname (the policy's "new server, same hostname")."""

    fault: Literal["disk-loss"]


class Corrupt(StepBase):
    """Damage data files of the target while it is stopped; the heal starts it on them."""

    fault: Literal["corrupt"]
    files: Int = Field(3, ge=1, le=1000, description="How many data files to damage.")


class TotalFailure(StepBase):
    """Every node of the target (e.g. postgres.*) fails at once: a global failure."""

    fault: Literal["total-failure"]
    keep_disks: Bool = Field(False, description="Keep the volumes (a power cut) instead of losing them.")


# ---- heal actions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComposeUp(HealAction):
    """Bring destroyed nodes back under the same service names (`docker compose up -d --no-deps`).
    Without the project's compose (a cleanup that removes the whole project) there is nothing to do."""

    kind: ClassVar[str] = "compose-up"
    services: tuple[str, ...]

    def heal(self, ctx: HealContext) -> None:
        if ctx.compose is not None:
            ctx.compose("up", "-d", "--no-deps", *self.services)


# ---- inject ----------------------------------------------------------------------------------------


def _destroy(stack: FaultTarget, containers: list[Container]) -> None:
    """Kill the servers and destroy their disks (the volumes, then nothing is left of the node)."""
    for c in containers:
        vols = volumes_of(c)
        c.remove(force=True)
        for name in vols:
            stack.client.volumes.get(name).remove(force=True)


def _kill_all(containers: list[Container]) -> None:
    for c in containers:
        c.kill()


def _respawn(containers: list[Container]) -> ComposeUp:
    return ComposeUp(tuple(sorted({service_of(c) for c in containers})))


def disk_loss(step: DiskLoss, ctx: FaultContext) -> Entry:
    found = targets(ctx.stack, step.target)
    return apply(ctx, "disk-loss", [_respawn(found)], lambda: _destroy(ctx.stack, found))


def total_failure(step: TotalFailure, ctx: FaultContext) -> Entry:
    """Every replica of a component lost at once; `keep_disks: true` models a power cut instead."""
    found = targets(ctx.stack, step.target)
    if step.keep_disks:
        return apply(ctx, "total-failure", [_respawn(found)], lambda: _kill_all(found))
    return apply(ctx, "total-failure", [_respawn(found)], lambda: _destroy(ctx.stack, found))


def corrupt(step: Corrupt, ctx: FaultContext) -> Entry:
    """Damage the node's data files while it is down, then start it on the damaged disk."""
    stack = ctx.stack
    found = targets(stack, step.target)

    def do() -> None:
        base = helper_image(stack.client)
        for c in found:
            c.stop(timeout=10)
            for name in volumes_of(c):
                stack.client.containers.run(
                    base, ["sh", "-c", CORRUPT_SCRIPT, "corrupt", str(step.files)], remove=True,
                    network_mode="none", volumes={name: {"bind": "/data", "mode": "rw"}},
                    labels=helper_labels(stack.project),
                )
            c.start()

    return apply(ctx, "corrupt", [Start(str(c.name)) for c in found], do)


DISK_LOSS = Fault(DiskLoss, disk_loss, heals=(ComposeUp,))
CORRUPT = Fault(Corrupt, corrupt, heals=(Start,))
TOTAL_FAILURE = Fault(TotalFailure, total_failure, heals=(ComposeUp,))

KINDS = (DISK_LOSS, CORRUPT, TOTAL_FAILURE)
