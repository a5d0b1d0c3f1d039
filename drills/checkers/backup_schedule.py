"""The backup schedule as it ran, read back from its backup records: what became of each backup,
and the data-loss window the schedule promises. Pure.

What became of a backup, relative to the failure (the first injection):
    ok             it completed;
    failed         it failed before the failure, on a healthy stack: a recovery point the strategy
                   missed;
    interrupted    it was in flight when the failure struck, and the failure killed it;
    after-failure  it started once the failure had begun: the schedule kept trying against a
                   cluster that was gone (expected to fail, and not the strategy's fault).

The promise. A schedule of interval I takes a backup at each slot (origin + k * I; one that
overruns its slot moves the next to the first slot after it ends: `model.next_slot`). A failure
loses what was written since the start of the last backup that completed, so the restored backup
may be as old as the gap to the next slot plus the time that next backup takes:

    RPO bound = gap from the restored backup's slot to the next slot (I, unless it overran)
                + the longest backup duration measured in this run.

Measured durations: every completed backup's, and the time the interrupted backup had been
running (from its slot) when the failure struck, which is a duration too, only cut short; likewise
a backup whose slot had come but which had not started yet (the scheduler wakes up a little late):
the time from its slot to the failure. Unless that time was longer than one interval and longer
than every completed backup: then the schedule had stalled, and it does not stretch the bound.
So the bound follows the machine's speed as measured in the same run, and what it still catches is
a schedule that stalls: a slot with no backup, a backup failing on a healthy stack, a backup that
hangs.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from drills.backup.model import Backup, next_slot


class Fate(enum.Enum):
    OK = "ok"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    AFTER_FAILURE = "after-failure"


def fate(backup: Backup, failure_at: float | None) -> Fate:
    if backup.ok:
        return Fate.OK
    if failure_at is None or backup.ended_s < failure_at:
        return Fate.FAILED
    return Fate.INTERRUPTED if backup.started_s < failure_at else Fate.AFTER_FAILURE


def fates(backups: Sequence[Backup], failure_at: float | None) -> dict[str, object]:
    """Counts per fate (`backups_ok`, `backups_failed`, ...) and the ids of the unusual ones."""
    by: dict[Fate, list[str]] = {f: [] for f in Fate}
    for b in backups:
        by[fate(b, failure_at)].append(b.id)
    counts: dict[str, object] = {f"backups_{f.value.replace('-', '_')}": len(ids) for f, ids in by.items()}
    counts["backups_failed_ids"] = by[Fate.FAILED]
    counts["backups_interrupted_ids"] = by[Fate.INTERRUPTED]
    return counts


@dataclass(frozen=True)
class Promise:
    """The data-loss window the schedule promises for a restore of `used`, and its parts."""

    interval_s: float
    gap_s: float  # from the restored backup's slot to the next slot
    longest_completed_s: float  # the longest completed backup of the run (0 when none)
    longest_id: str | None
    in_flight: Backup | None  # the backup the failure interrupted
    in_flight_s: float | None  # how long it had been running, from its slot, when the failure struck
    stalled: bool  # it had run longer than an interval and than every completed backup
    late: Backup | None = None  # a backup due before the failure that had not started when it struck
    late_s: float | None = None  # from its slot to the failure

    @property
    def late_stalled(self) -> bool:
        return self.late_s is not None and self.late_s > max(self.interval_s, self.longest_completed_s)

    @property
    def longest_s(self) -> float:
        counted = self.in_flight_s if self.in_flight_s is not None and not self.stalled else 0.0
        late = self.late_s if self.late_s is not None and not self.late_stalled else 0.0
        return max(self.longest_completed_s, counted, late)

    @property
    def bound_s(self) -> float:
        return self.gap_s + self.longest_s

    def explain(self) -> str:
        parts = f"RPO bound {self.bound_s:.1f} s = next slot {self.gap_s:g} s + longest backup {self.longest_s:.1f} s"
        if self.in_flight is not None and self.in_flight_s is not None:
            parts += (f"; {self.in_flight.id} was interrupted by the failure after {self.in_flight_s:.1f} s"
                      + (" and had stalled (longer than the interval and than every completed backup)"
                         if self.stalled else ""))
        if self.late is not None and self.late_s is not None:
            parts += (f"; {self.late.id} was due {self.late_s:.1f} s before the failure and had not started"
                      + (" (the schedule had stalled)" if self.late_stalled else ""))
        return parts


def promise(backups: Sequence[Backup], used: Backup, *, interval_s: float, failure_at: float) -> Promise:
    completed = [b for b in backups if b.ok]
    longest = max(completed, key=lambda b: b.duration_s, default=None)
    longest_completed = longest.duration_s if longest is not None else 0.0
    interrupted = [b for b in backups if fate(b, failure_at) is Fate.INTERRUPTED]
    in_flight = max(interrupted, key=lambda b: b.started_s, default=None)
    in_flight_s = None if in_flight is None else max(0.0, failure_at - in_flight.slot_s)
    stalled = in_flight_s is not None and in_flight_s > max(interval_s, longest_completed)
    due = [b for b in backups if fate(b, failure_at) is Fate.AFTER_FAILURE and b.slot_s < failure_at]
    late = min(due, key=lambda b: b.slot_s, default=None)
    gap = next_slot(used.slot_s, used.ended_s, interval_s) - used.slot_s
    return Promise(interval_s, gap, longest_completed, None if longest is None else longest.id, in_flight,
                   in_flight_s, stalled, late, None if late is None else failure_at - late.slot_s)
