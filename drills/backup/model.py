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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from drills.core.events import BackupRecorded, RestoreEnded, RestoreStarted, of_kind
from drills.core.history import Event


@dataclass(frozen=True)
class Digest:
    """What a data set holds: how many rows (documents, definitions), the highest seq, a checksum."""

    rows: int
    max_seq: int | None
    checksum: str


@dataclass(frozen=True)
class Backup:
    id: str
    component: str  # postgres | mongo | rabbitmq
    method: str  # dump | snapshot
    started_s: float
    ended_s: float
    ok: bool
    point_s: float | None = None
    rows: int | None = None
    max_seq: int | None = None
    checksum: str | None = None
    source: str = ""  # the node it was taken from
    location: str = ""  # a host path or a volume:path
    size_bytes: int | None = None
    error: str | None = None
    due_s: float | None = None
    # Where the content was on its source node (a disk snapshot's data directory): where a restore
    # puts it back, read when the backup was taken because after a total failure nothing can say it.
    source_path: str = ""

    @property
    def duration_s(self) -> float:
        return self.ended_s - self.started_s

    @property
    def slot_s(self) -> float:
        """When the schedule wanted it: its slot, or its start where no slot was recorded."""
        return self.started_s if self.due_s is None else self.due_s

    @property
    def digest(self) -> Digest | None:
        if self.rows is None or self.checksum is None:
            return None
        return Digest(self.rows, self.max_seq, self.checksum)

    def to_event_data(self) -> dict[str, Any]:
        data = asdict(self)
        data["duration_s"] = round(self.duration_s, 3)
        return data

    @classmethod
    def from_event_data(cls, data: Mapping[str, Any]) -> Backup:
        """The inverse of `to_event_data`; raises ValueError on a record it cannot read."""
        try:
            return cls(
                id=str(data["id"]), component=str(data["component"]), method=str(data["method"]),
                started_s=float(data["started_s"]), ended_s=float(data["ended_s"]), ok=bool(data["ok"]),
                point_s=_opt_float(data.get("point_s")), rows=_opt_int(data.get("rows")),
                max_seq=_opt_int(data.get("max_seq")),
                checksum=None if data.get("checksum") is None else str(data["checksum"]),
                source=str(data.get("source") or ""), location=str(data.get("location") or ""),
                size_bytes=_opt_int(data.get("size_bytes")),
                error=None if data.get("error") is None else str(data["error"]),
                due_s=_opt_float(data.get("due_s")), source_path=str(data.get("source_path") or ""),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a backup record: {exc}") from None


@dataclass(frozen=True)
class Restore:
    """One restore of a backup into a new cluster: started, ended, and what it put back."""

    backup_id: str
    component: str
    method: str
    started_s: float
    ended_s: float | None = None  # None: it never finished
    ok: bool = False
    rows: int | None = None
    max_seq: int | None = None
    checksum: str | None = None
    error: str | None = None
    steps_s: dict[str, float] = field(default_factory=dict)  # e.g. new-cluster, load, verify

    @property
    def digest(self) -> Digest | None:
        if self.rows is None or self.checksum is None:
            return None
        return Digest(self.rows, self.max_seq, self.checksum)


def next_slot(start: float, now: float, interval: float) -> float:
    """The first slot start + k * interval (k >= 1) strictly after `now`."""
    if interval <= 0 or not math.isfinite(interval):
        return now
    k = max(int((now - start) // interval) + 1, 1)
    while start + k * interval <= now:  # floating point: 1.0 // 0.1 is 9.0
        k += 1
    return start + k * interval


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


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


def parse_digest_row(row: Sequence[Any]) -> Digest:
    """(count, max seq or NULL/-1, md5 text) as the digest queries return it."""
    if len(row) != 3:
        raise ValueError(f"a digest row has 3 columns, got {len(row)}")
    rows, max_seq, checksum = row
    top = None if max_seq is None or int(max_seq) < 0 else int(max_seq)
    if not isinstance(checksum, str) or not checksum:
        raise ValueError(f"no checksum in {row!r}")
    return Digest(int(rows), top, checksum)
