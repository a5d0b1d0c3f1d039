"""The `restore-backup` step: a new cluster from the latest backup, after a global failure.

Ledger-first like every fault: the heal (bring the component's nodes up, `compose up -d`) is
recorded before anything is touched. It acts only on containers carrying the run's project label,
and on helper containers it creates with that label. The backup comes from the drill's backups
(`FaultContext.backups`, where the schedule put it); `RestoreStarted` and `RestoreEnded` events
(drills.core.events, with the restored digest) go to the drill's history, so RTO (failure to service restored) and the
integrity of the restore are measured from the history alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, cast

from pydantic import Field

from drills.backup.model import Backup, Restore
from drills.backup.target import BackupStack, method_of, nodes_of
from drills.components import registry
from drills.core.errors import FaultError
from drills.core.events import RestoreEnded, RestoreStarted
from drills.faults.base import Fault, FaultContext, Loc, apply
from drills.faults.entry import Entry
from drills.faults.step import StepBase
from drills.faults.storage import ComposeUp

if TYPE_CHECKING:
    from drills.checkers.protocol import FileView

RESTORE_TIMEOUT_S = 120.0


class RestoreBackup(StepBase):
    """Replace the target's data with its last backup (dump files or a disk snapshot)."""

    fault: Literal["restore-backup"]
    method: Literal["dump", "snapshot"] = Field("dump", description="dump: restore from dump files; "
                                                "snapshot: a new disk from a disk snapshot.")


def component_of(target: str) -> str:
    group = target.strip().split(".")[0].split("[")[0]
    kinds = registry.backup_kinds()
    if group not in kinds:
        raise FaultError(f"restore-backup: {target!r} is not a database or queue "
                         f"({', '.join(f'{kind}.*' for kind in kinds)})")
    return group


def problems(step: Mapping[str, Any], view: FileView) -> list[tuple[Loc, str]]:
    """A restore needs a `backup:` section that fits it: of its target's component, by its method."""
    if view.backup is None:
        return [((), "restore-backup needs a `backup:` section (what to back up, how, how often)")]
    component, method = view.backup.get("component"), view.backup.get("method") or "dump"
    found: list[tuple[Loc, str]] = []
    target = str(step.get("target", "")).split(".")[0]
    if target and component and target != component:
        found.append((("target",), f"the backups are of {component}, not {target}"))
    if (step.get("method") or "dump") != method:
        found.append((("method",), f"the backups are taken by {method}, so restore with method: {method}"))
    return found


def _restore(stack: BackupStack, backup: Backup, method: str, ctx: FaultContext) -> Restore:
    """The component's restore of a backup taken by `method`, found through the registry."""
    return method_of(stack, backup.component, method).restore(stack, backup, RESTORE_TIMEOUT_S, ctx.clock)


def restore_backup(step: RestoreBackup, ctx: FaultContext) -> Entry:
    component = component_of(step.target)
    method = step.method
    backup = ctx.backups.latest(component, method) if ctx.backups is not None else None
    if backup is None:
        raise FaultError(f"restore-backup: no successful {component} {method} backup was taken in this drill",
                         hint="give the scenario a `backup:` section, and the schedule time to take one")
    stack = ctx.stack
    if not (hasattr(stack, "settings") and hasattr(stack, "snapshot")):
        raise FaultError("restore-backup needs a whole compose project (drills.stack.project.ComposeProject)")
    full = cast("BackupStack", stack)

    def do() -> None:
        ctx.record(RestoreStarted(ctx.clock(), ctx.fault_id, backup.id, component, method,
                                  backup_point_s=backup.point_s, backup_rows=backup.rows,
                                  backup_checksum=backup.checksum))
        try:
            done = _restore(full, backup, method, ctx)
        except Exception as exc:
            ctx.record(RestoreEnded(ctx.clock(), ctx.fault_id, backup.id, ok=False,
                                    error=f"{type(exc).__name__}: {exc}"[:800]))
            raise
        ctx.record(RestoreEnded(ctx.clock(), ctx.fault_id, backup.id, ok=done.ok, rows=done.rows,
                                max_seq=done.max_seq, checksum=done.checksum, steps_s=done.steps_s,
                                duration_s=round((done.ended_s or done.started_s) - done.started_s, 3)))

    # The heal brings the component's nodes back as the Compose file names them (none has a
    # container after a total failure to read the names from).
    return apply(ctx, "restore-backup", [ComposeUp(tuple(nodes_of(full, component)))], do)


RESTORE_BACKUP = Fault(RestoreBackup, restore_backup, heals=(ComposeUp,), needs_backup=True, problems=problems)

KINDS = (RESTORE_BACKUP,)
