"""A restore holds exactly what its backup held: the same rows (documents, definitions) and the
same checksum, as recorded when the backup was taken and when the restore was verified. Also
measures the restore's RTO: from the failure (`restored_failure`) to the restore verified.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from pydantic import Field

from drills.backup.model import Backup, Restore, backups_from_events, restore_from_events
from drills.checkers.backup_schedule import fates
from drills.checkers.protocol import Checker, Evidence, ExpectationModel, FileView, Metric
from drills.checkers.verdict import Status, Verdict, judge_all, not_measured
from drills.core.events import FaultApplied, Phase, RestoreStarted, of_kind, phases
from drills.core.history import Event
from drills.core.yaml_locate import Loc
from drills.spec.types import Duration, Why


def backup_gaps(backups: Sequence[Backup]) -> list[float]:
    """Seconds between the starts of consecutive successful backups."""
    starts = sorted(b.started_s for b in backups if b.ok)
    return [b - a for a, b in itertools.pairwise(starts)]


def restored_failure(events: Sequence[Event]) -> tuple[float | None, float | None]:
    """The failure a restore recovers from: when the injection of the last fault applied before the
    restore began started, and when it was applied; without a restore, or no fault before it, the
    first injection (None, None: no fault at all). A scenario whose global failure is its first step
    gets that step either way; a schedule of other failures first (an exploration's, landing during
    the backups) is judged from the failure that made the restore necessary, not from the first."""
    starts = [r.at for r in of_kind(events, RestoreStarted)]
    applied = [f.at for f in of_kind(events, FaultApplied)]
    before = [at for at in applied if starts and at <= max(starts)]
    injects = sorted(p.at for p in phases(events, Phase.INJECT))
    if not before:
        first = injects[0] if injects else None
        return first, (None if first is None else min((at for at in applied if at >= first), default=None))
    done = max(before)
    return max((at for at in injects if at <= done), default=done), done


def check_backup_integrity(component: str, backups: Sequence[Backup], restore: Restore | None, *,
                           failure_at: float | None, max_rto_s: float | None = None, why: str = "") -> Verdict:
    expectation = "restored rows and checksum equal the backup's" + (
        f"; failure to restore verified <= {max_rto_s:g} s" if max_rto_s is not None else "")
    bound = {} if max_rto_s is None else {"max_rto_s": max_rto_s}
    gaps = backup_gaps(backups)
    measured: dict[str, object] = {
        **fates(backups, failure_at), "backup_gap_max_s": round(max(gaps), 3) if gaps else None,
        "backup_duration_max_s": round(max((b.duration_s for b in backups if b.ok), default=0.0), 3),
    }
    if restore is None:
        return not_measured("backup-integrity", component, expectation, "no restore happened", bound=bound,
                            measured=measured, why=why)
    used = next((b for b in backups if b.id == restore.backup_id and b.ok), None)
    if used is None or used.digest is None:
        return not_measured("backup-integrity", component, expectation,
                            f"backup {restore.backup_id!r} and its digest are not in the history", bound=bound,
                            measured=measured, why=why)
    rto = None if failure_at is None or restore.ended_s is None else restore.ended_s - failure_at
    measured.update({
        "backup": used.id, "backup_rows": used.rows, "backup_max_seq": used.max_seq, "backup_checksum": used.checksum,
        "backup_duration_s": round(used.duration_s, 3), "backup_bytes": used.size_bytes,
        "restored_rows": restore.rows, "restored_max_seq": restore.max_seq, "restored_checksum": restore.checksum,
        "restore_duration_s": None if restore.ended_s is None else round(restore.ended_s - restore.started_s, 3),
        "restore_steps_s": dict(restore.steps_s), "rto_s": None if rto is None else round(rto, 3),
    })
    if restore.ended_s is None:
        return not_measured("backup-integrity", component, expectation, "the restore never finished", bound=bound,
                            measured=measured, why=why)
    if not restore.ok or restore.digest is None:
        return Verdict("backup-integrity", component, expectation,
                       f"restore of {used.id} failed: {restore.error or 'no digest'}", Status.FAIL, measured, bound,
                       why)
    same = restore.rows == used.rows and restore.checksum == used.checksum
    observed = (f"backup {used.id}: {used.rows} rows, md5 {used.checksum}; restored: {restore.rows} rows, md5 "
                f"{restore.checksum} ({'match' if same else 'MISMATCH'})")
    if rto is not None:
        observed += f"; restore verified {rto:.1f} s after the failure"
    checks: list[bool | None] = [same]
    if max_rto_s is not None:
        checks.append(None if rto is None else rto <= max_rto_s)
    return Verdict("backup-integrity", component, expectation, observed, judge_all(checks), measured, bound, why)


# ---- the expectation and the checker -------------------------------------------------------------


class BackupIntegrity(ExpectationModel):
    """The restore holds exactly what its backup held: rows and checksum (drills.checkers.backup_integrity)."""

    checker: Literal["backup-integrity"]
    max_rto: Duration | None = Field(None, description="From the failure (the injection of the last fault before "
                                                        "the restore) to the restore verified.")
    why: Why


def _check(exp: BackupIntegrity, ev: Evidence) -> list[Verdict]:
    s = ev.scenario
    return [check_backup_integrity(s.backup.component if s.backup else (s.component or "stack"),
                                   backups_from_events(ev.events), restore_from_events(ev.events),
                                   failure_at=restored_failure(ev.events)[0], max_rto_s=exp.max_rto, why=exp.why)]


def needs_a_backup(exp: Mapping[str, Any], view: FileView) -> Iterable[tuple[Loc, str]]:
    if view.backup is None:
        yield (), f"the {exp.get('checker')} checker needs a `backup:` section"


def _subject(exp: Mapping[str, Any], scenario: Mapping[str, Any]) -> str:
    """The component whose backup was restored."""
    backup = scenario.get("backup")
    return str((backup.get("component") if isinstance(backup, dict) else None) or scenario.get("component")
               or "stack")


CHECKER = Checker(BackupIntegrity, _check, subject=_subject, problems=needs_a_backup, backup_evidence=True,
                  metrics=(Metric("RTO", "s", "rto_s", bound="max_rto_s", target="max_rto", junit="rto_s"),))
