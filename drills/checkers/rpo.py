"""RPO of a restore from backup: acknowledged writes lost, split by when they were acknowledged.

Against the backup the restore used (`restore-start` names it) and the final read:
- acknowledged **before that backup started** and absent: the backup or the restore lost data it
  held. Never allowed, whatever the bound (an integrity failure, not an RPO);
- acknowledged **after the restore ended** and absent: the restored service lost a write it
  acknowledged. Never allowed either;
- acknowledged in between (from the backup's start to the restore's end): the RPO, what the
  backup strategy gives up. At most `max_lost`.
The data-loss window is measured too, as the larger of: from the start of the restored backup to
the failure (the first injection), and the span actually lost, from the backup's start to the last
lost write's acknowledgement (a failure takes a moment to complete: the last node may still
acknowledge writes). It is bounded by `max_rpo` (the interval plus one backup's duration).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

from drills.backup.model import Backup, Restore
from drills.checkers.lost_writes import SAMPLE, value_order
from drills.checkers.verdict import Verdict, judge_all, not_measured
from drills.history import Op, Outcome


def lost_bound(rate: float, max_rpo_s: float, max_lost: int | None) -> int:
    """The writes a window of `max_rpo_s` at `rate` writes/s may lose, unless given outright."""
    return max_lost if max_lost is not None else math.ceil(rate * max_rpo_s)


def check_rpo(ops: Sequence[Op], signal: str, final_read: Collection[object] | None, backups: Sequence[Backup],
              restore: Restore | None, *, failure_at: float | None, rate: float, max_rpo_s: float,
              max_lost: int | None = None, why: str = "") -> Verdict:
    bound_lost = lost_bound(rate, max_rpo_s, max_lost)
    bound = {"max_rpo_s": max_rpo_s, "max_lost": bound_lost, "lost_before_backup": 0, "lost_after_restore": 0}
    expectation = (f"no write acknowledged before the restored backup lost; at most {bound_lost} acknowledged "
                   f"writes lost after it; data-loss window <= {max_rpo_s:g} s")
    taken = [b for b in backups if b.ok]
    base_measured = {"backups_ok": len(taken), "backups_failed": sum(1 for b in backups if not b.ok)}
    if final_read is None:
        return not_measured("rpo", signal, expectation, "no final read", bound=bound, measured=base_measured, why=why)
    if restore is None:
        return not_measured("rpo", signal, expectation, "no restore happened", bound=bound, measured=base_measured,
                            why=why)
    used = next((b for b in taken if b.id == restore.backup_id), None)
    if used is None:
        return not_measured("rpo", signal, expectation, f"the restored backup {restore.backup_id!r} is not in the "
                            "history", bound=bound, measured=base_measured, why=why)
    if restore.ended_s is None or not restore.ok:
        return not_measured("rpo", signal, expectation, "the restore did not complete" +
                            (f": {restore.error}" if restore.error else ""), bound=bound, measured=base_measured,
                            why=why)
    acked_at: dict[object, float] = {}
    attempted: set[object] = set()
    for o in ops:
        if o.signal != signal or o.kind != "write":
            continue
        attempted.add(o.value)
        if o.outcome is Outcome.OK:
            acked_at[o.value] = min(o.end, acked_at.get(o.value, o.end))
    if not acked_at:
        return not_measured("rpo", signal, expectation, "no acknowledged writes", bound=bound, measured=base_measured,
                            why=why)
    present = set(final_read)
    lost = {v: t for v, t in acked_at.items() if v not in present}
    before = sorted((v for v, t in lost.items() if t < used.started_s), key=value_order)
    after = sorted((v for v, t in lost.items() if t >= restore.ended_s), key=value_order)
    window = sorted((v for v, t in lost.items() if used.started_s <= t < restore.ended_s), key=value_order)
    unexpected = sorted(present - attempted, key=value_order)
    rpo_window = None if failure_at is None else failure_at - used.started_s
    lost_span = max((lost[v] for v in window), default=used.started_s) - used.started_s
    measured = {
        **base_measured, "backup": used.id, "backup_started_s": round(used.started_s, 3),
        "backup_duration_s": round(used.duration_s, 3), "acknowledged": len(acked_at), "lost": len(lost),
        "lost_before_backup": len(before), "lost_after_backup": len(window), "lost_after_restore": len(after),
        "unexpected": len(unexpected), "rpo_window_s": None if rpo_window is None else round(rpo_window, 3),
        "lost_span_s": round(lost_span, 3), "lost_sample": window[:SAMPLE],
        "integrity_sample": (before + after)[:SAMPLE],
    }
    observed = (f"{len(window)} acknowledged writes lost after backup {used.id} (bound {bound_lost}), "
                f"acknowledged over {lost_span:.1f} s after it started; failure "
                + ("at an unknown time" if rpo_window is None else f"{rpo_window:.1f} s after it started")
                + f" (RPO bound {max_rpo_s:g} s)")
    if before:
        observed += f"; {len(before)} writes acknowledged before the backup are missing (e.g. {before[:5]})"
    if after:
        observed += f"; {len(after)} writes acknowledged after the restore are missing (e.g. {after[:5]})"
    if unexpected:
        observed += f"; {len(unexpected)} values never written appeared"
    rpo_s = None if rpo_window is None else max(rpo_window, lost_span)
    measured["rpo_s"] = None if rpo_s is None else round(rpo_s, 3)
    status = judge_all([not before, not after, not unexpected, len(window) <= bound_lost,
                        None if rpo_s is None else rpo_s <= max_rpo_s])
    return Verdict("rpo", signal, expectation, observed, status, measured, bound, why)
