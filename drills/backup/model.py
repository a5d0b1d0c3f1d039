"""Backup and restore records, and how they travel through the history as events. Pure.

A backup is recorded as one `BackupRecorded` event when it ends (ok or not), holding its record
(`to_event_data`); a restore as `RestoreStarted` and `RestoreEnded` (drills.core.events). Checkers read
them back with `backups_from_events` / `restore_from_events`, so they stay pure functions of the
history.

Times are seconds on the drill's clock. For a backup:
    due_s       the schedule's slot it was taken for (None in records written before slots were kept)
    started_s   the backup began (anything acknowledged before it must be in the backup)
    point_s     the instant the backup's content is as of (the exported snapshot, the paused replay)
    ended_s     the backup was safely off the server
The content digest of what a backup holds: `rows`, `max_seq` (the highest acknowledged sequence
number it contains) and `checksum` (md5 over its rows in sequence order, or over the canonical
definitions for RabbitMQ). A restore records the same digest of what it put back.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from drills.core.backups import Backup, Digest, Restore, parse_digest_row
from drills.core.events import BackupRecorded, RestoreEnded, RestoreStarted, of_kind
from drills.core.history import Event

# The records themselves are in drills.core.backups, below the component adapters that take and
# restore backups; importers of this module keep finding them here.
__all__ = ["MOST_ERRORS_SHOWN", "NO_ERROR", "Backup", "Digest", "Restore", "attempts_text", "backups_from_events",
           "failed_with", "latest_ok", "next_slot", "parse_digest_row", "restore_from_events"]


def next_slot(start: float, now: float, interval: float) -> float:
    """The first slot start + k * interval (k >= 1) strictly after `now`."""
    if interval <= 0 or not math.isfinite(interval):
        return now
    k = max(int((now - start) // interval) + 1, 1)
    while start + k * interval <= now:  # floating point: 1.0 // 0.1 is 9.0
        k += 1
    return start + k * interval


def backups_from_events(events: Iterable[Event]) -> list[Backup]:
    """Every backup recorded in the history (damaged records skipped), in the order they ended."""
    found = []
    for recorded in of_kind(events, BackupRecorded):
        try:
            found.append(Backup.from_event_data(recorded.record))
        except ValueError:
            continue
    return sorted(found, key=lambda b: b.ended_s)


def restore_from_events(events: Sequence[Event]) -> Restore | None:
    """The last restore of the history: its start, and its end when one was recorded."""
    starts = of_kind(events, RestoreStarted)
    if not starts:
        return None
    start = max(starts, key=lambda e: e.at)
    # Only the first end after the start is read (a later, damaged one does not matter).
    end = next((RestoreEnded.of(e) for e in sorted(events, key=lambda e: e.at)
                if e.name == RestoreEnded.NAME and e.at >= start.at), None)
    if end is None:
        return Restore(start.backup_id, start.component, start.method, start.at)
    return Restore(start.backup_id, start.component, start.method, start.at, ended_s=end.at, ok=end.ok,
                   rows=end.rows, max_seq=end.max_seq, checksum=end.checksum, error=end.error,
                   steps_s=dict(end.steps_s))


def latest_ok(backups: Iterable[Backup], *, component: str | None = None, method: str | None = None,
              before_s: float | None = None) -> Backup | None:
    """The last successful backup (of a component / method, ended before `before_s`)."""
    ok = [b for b in backups if b.ok and (component is None or b.component == component)
          and (method is None or b.method == method) and (before_s is None or b.ended_s <= before_s)]
    return max(ok, key=lambda b: b.ended_s, default=None)


NO_ERROR = "no error recorded"
MOST_ERRORS_SHOWN = 3  # distinct errors named in a summary; more are counted


def failed_with(backups: Iterable[Backup]) -> str:
    """What the failed attempts among `backups` said: `all with: E` where they all said the same,
    else each distinct error with how many said it, the most frequent first (the first seen first
    among equals), the rest counted: what a user needs to fix a backup that never works, without
    reading the history. "" when none failed."""
    counts: dict[str, int] = {}
    for b in backups:
        if not b.ok:
            error = (b.error or "").strip() or NO_ERROR
            counts[error] = counts.get(error, 0) + 1
    if not counts:
        return ""
    if len(counts) == 1:
        return f"all with: {next(iter(counts))}"
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])  # stable: first seen first among equals
    shown = "; ".join(f"{n} x {error}" for error, n in ranked[:MOST_ERRORS_SHOWN])
    rest = ranked[MOST_ERRORS_SHOWN:]
    more = f"; and {sum(n for _, n in rest)} with {len(rest)} other error{'s' if len(rest) > 1 else ''}" if rest else ""
    return f"{len(counts)} distinct errors: {shown}{more}"


def attempts_text(backups: Sequence[Backup], attempted: int) -> str:
    """`26 of 26 attempts failed, all with: E` (or the distinct errors, `failed_with`), and how
    many are still running; `attempted` counts those that have not ended too."""
    failed = sum(1 for b in backups if not b.ok)
    running = max(0, attempted - len(backups))
    text = f"{failed} of {max(attempted, len(backups))} attempts failed"
    if failed:
        text += f", {failed_with(backups)}"
    return text + (f"; {running} still running" if running else "")
