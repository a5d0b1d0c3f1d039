"""RPO of a restore from backup: acknowledged writes lost, split by when they were acknowledged.

Against the backup the restore used (its `RestoreStarted` event names it) and the final read:
- acknowledged **before that backup started** and absent: the backup or the restore lost data it
  held. Never allowed, whatever the bound (an integrity failure, not an RPO);
- acknowledged **after the restore ended** and absent: the restored service lost a write it
  acknowledged. Never allowed either;
- acknowledged in between (from the backup's start to the restore's end): what the backup strategy
  gives up. At most `max_lost` (default: the signal's rate over the RPO bound and the failure's own
  course, from its injection to the step done).
The failure is the one the restore recovers from: the last fault applied before it
(`backup_integrity.restored_failure`; a scenario's global failure, after whatever an exploration's
schedule did first). The RPO is how old the restored backup was when the failure struck (from its
start to that injection), or the span actually lost when longer (nodes still alive while the failure completes
acknowledge writes it then loses; that course, from the injection to the step done, is measured and
added to the bound). Its bound is the schedule's promise as configured and as measured in the same run
(`backup_schedule.promise`: the gap to the next slot plus the longest backup measured), so the
verdict follows the machine's speed instead of assuming one; a policy's own RPO target
(`max_rpo`), when the scenario states one, must hold as well. The span actually lost (from the
backup's start to the last lost write's acknowledgement) is reported beside it.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from drills.backup.model import Backup, Restore, backups_from_events, failed_with, restore_from_events
from drills.checkers.backup_integrity import needs_a_backup, restored_failure
from drills.checkers.backup_schedule import Fate, Promise, fate, fates, promise
from drills.checkers.lost_writes import SAMPLE, value_order
from drills.checkers.protocol import (
    Checker,
    Evidence,
    ExpectationModel,
    FileView,
    Metric,
    TargetDefault,
    number,
    signal_not_driven,
)
from drills.checkers.verdict import Status, Verdict, judge_all, not_measured
from drills.core.history import Op, Outcome
from drills.core.yaml_locate import Loc
from drills.spec.types import Duration, Int, Why
from drills.workload.registry import WriteSignal

EPSILON_S = 1e-6  # slots are sums of floats: a window equal to its bound may differ from it by rounding


def lost_bound(rate: float, max_rpo_s: float, max_lost: int | None) -> int:
    """The writes a window of `max_rpo_s` at `rate` writes/s may lose, unless given outright."""
    return max_lost if max_lost is not None else math.ceil(rate * max_rpo_s)


def _expectation(target_s: float | None, bound_s: float | None = None, bound_lost: int | None = None) -> str:
    window = ("data-loss window <= the backup schedule's promise (next slot + longest backup measured + the "
              "failure's own course"
              + (f": {bound_s:.1f} s)" if bound_s is not None else ")"))
    if target_s is not None:
        window += f" and <= the RPO target {target_s:g} s"
    lost = "a bounded number of" if bound_lost is None else f"at most {bound_lost}"
    return f"no write acknowledged before the restored backup lost; {lost} acknowledged writes lost after it; {window}"


def check_rpo(ops: Sequence[Op], signal: str, final_read: Collection[object] | None, backups: Sequence[Backup],
              restore: Restore | None, *, failure_at: float | None, rate: float, interval_s: float | None,
              failure_done: float | None = None, max_rpo_s: float | None = None, max_lost: int | None = None,
              why: str = "") -> Verdict:
    """`interval_s`: the schedule's configured interval; `failure_done`: when the failure's injection
    completed (default: when it began); `max_rpo_s`: the policy's own RPO target, if it states one."""
    expectation = _expectation(max_rpo_s)
    target = {} if max_rpo_s is None else {"rpo_target_s": max_rpo_s}
    base_measured: dict[str, object] = fates(backups, failure_at)
    taken = [b for b in backups if b.ok]

    def unmeasured(reason: str) -> Verdict:
        return not_measured("rpo", signal, expectation, reason, bound=target, measured=base_measured, why=why)

    if backups and not taken:
        return Verdict("rpo", signal, expectation, f"no backup completed: all {len(backups)} attempts failed "
                       f"({base_measured['backups_failed']} before the failure), {failed_with(backups)}; the "
                       "strategy left nothing to restore", Status.FAIL, base_measured, target, why)
    restored = _restored(taken, restore, final_read, failure_at=failure_at, interval_s=interval_s)
    if isinstance(restored, str):
        return unmeasured(restored)
    acked_at, attempted = _acknowledged(ops, signal)
    if not acked_at:
        return unmeasured("no acknowledged writes")
    kept = promise(backups, restored.used, interval_s=restored.interval_s, failure_at=restored.failure_at)
    struck = restored.failure_at
    course = max(0.0, (failure_done if failure_done is not None else struck) - struck)
    bound_s = kept.bound_s + course
    bound_lost = lost_bound(rate, bound_s, max_lost)
    bound = {"max_rpo_s": round(bound_s, 3), **target, "max_lost": bound_lost, "lost_before_backup": 0,
             "lost_after_restore": 0}
    lost = _Lost.of(acked_at, attempted, restored)
    # The restored backup's age when the failure struck, or the span actually lost when longer: a
    # failure takes a while to complete (tens of seconds on a loaded host) and nodes still alive
    # meanwhile acknowledge writes it then loses. Its course is measured, and allowed for.
    rpo_s = max(0.0, struck - restored.used.started_s, lost.span_s)
    measured = {**base_measured, **_measured(restored, kept, lost, course=course, acknowledged=len(acked_at),
                                                 rpo_s=rpo_s)}
    status = judge_all([not lost.before, not lost.after, not lost.unexpected, len(lost.window) <= bound_lost,
                        rpo_s <= bound_s + EPSILON_S, True if max_rpo_s is None else rpo_s <= max_rpo_s])
    observed = _observed(backups, restored, kept, lost, course=course, bound_lost=bound_lost)
    return Verdict("rpo", signal, _expectation(max_rpo_s, bound_s, bound_lost), observed, status, measured, bound, why)


@dataclass(frozen=True)
class _Restored:
    """A restore that can be judged: the backup it put back, when it ended, what was read after it."""

    used: Backup
    ended_s: float
    final_read: Collection[object]
    failure_at: float
    interval_s: float


def _restored(taken: Sequence[Backup], restore: Restore | None, final_read: Collection[object] | None, *,
              failure_at: float | None, interval_s: float | None) -> _Restored | str:
    """The restore to judge, or why there is none to judge."""
    if interval_s is None:
        return "the scenario has no backup schedule"
    if final_read is None:
        return "no final read"
    if restore is None:
        return "no restore happened"
    if failure_at is None:
        return "no failure was injected"
    used = next((b for b in taken if b.id == restore.backup_id), None)
    if used is None:
        return f"the restored backup {restore.backup_id!r} is not in the history"
    if restore.ended_s is None or not restore.ok:
        return "the restore did not complete" + (f": {restore.error}" if restore.error else "")
    return _Restored(used, restore.ended_s, final_read, failure_at, interval_s)


def _acknowledged(ops: Sequence[Op], signal: str) -> tuple[dict[object, float], set[object]]:
    """The signal's writes: when each value was first acknowledged, and every value attempted."""
    acked_at: dict[object, float] = {}
    attempted: set[object] = set()
    for o in ops:
        if o.signal != signal or o.kind != "write":
            continue
        attempted.add(o.value)
        if o.outcome is Outcome.OK:
            acked_at[o.value] = min(o.end, acked_at.get(o.value, o.end))
    return acked_at, attempted


@dataclass(frozen=True)
class _Lost:
    """The acknowledged writes the final read lacks, split by when they were acknowledged (each in
    value order), and the values it holds that were never written."""

    count: int  # all of them
    before: list[object]  # before the restored backup started: the backup or the restore lost them
    window: list[object]  # from its start to the restore's end: what the strategy gives up
    after: list[object]  # after the restore ended: the restored service lost them
    unexpected: list[object]
    span_s: float  # from the backup's start to the last write of `window` acknowledged

    @classmethod
    def of(cls, acked_at: dict[object, float], attempted: set[object], restored: _Restored) -> _Lost:
        present = set(restored.final_read)
        started, ended = restored.used.started_s, restored.ended_s
        lost = {v: t for v, t in acked_at.items() if v not in present}
        before = sorted((v for v, t in lost.items() if t < started), key=value_order)
        after = sorted((v for v, t in lost.items() if t >= ended), key=value_order)
        window = sorted((v for v, t in lost.items() if started <= t < ended), key=value_order)
        unexpected = sorted(present - attempted, key=value_order)
        span_s = max((lost[v] for v in window), default=started) - started
        return cls(len(lost), before, window, after, unexpected, span_s)


def _measured(restored: _Restored, kept: Promise, lost: _Lost, *, course: float, acknowledged: int,
              rpo_s: float) -> dict[str, object]:
    """The numbers of a judged restore, beside the backups' fates."""
    used = restored.used
    return {
        "backup": used.id, "backup_started_s": round(used.started_s, 3),
        "backup_duration_s": round(used.duration_s, 3), "interval_s": restored.interval_s,
        "next_slot_s": round(kept.gap_s, 3), "backup_duration_max_s": round(kept.longest_completed_s, 3),
        "longest_backup": kept.longest_id,
        "in_flight_backup": None if kept.in_flight is None else kept.in_flight.id,
        "in_flight_s": None if kept.in_flight_s is None else round(kept.in_flight_s, 3), "stalled": kept.stalled,
        "failure_course_s": round(course, 3), "acknowledged": acknowledged, "lost": lost.count,
        "lost_before_backup": len(lost.before), "lost_after_backup": len(lost.window),
        "lost_after_restore": len(lost.after), "unexpected": len(lost.unexpected), "rpo_s": round(rpo_s, 3),
        "lost_span_s": round(lost.span_s, 3), "lost_sample": lost.window[:SAMPLE],
        "integrity_sample": (lost.before + lost.after)[:SAMPLE],
    }


def _observed(backups: Sequence[Backup], restored: _Restored, kept: Promise, lost: _Lost, *, course: float,
              bound_lost: int) -> str:
    """The verdict's account: the backup's age at the failure against the promise, what was lost."""
    used, failure_at = restored.used, restored.failure_at
    observed = (f"failure {max(0.0, failure_at - used.started_s):.1f} s after backup {used.id} started "
                f"({kept.explain()}" + (f", + the failure's own course {course:.1f} s" if course else "") + "); "
                f"{len(lost.window)} acknowledged writes lost after it (bound {bound_lost}), acknowledged over "
                f"{lost.span_s:.1f} s")
    failed = [b.id for b in backups if fate(b, failure_at) is Fate.FAILED]
    if failed:
        observed += f"; backups that failed on the healthy stack: {', '.join(failed)}"
    if lost.before:
        observed += f"; {len(lost.before)} writes acknowledged before the backup are missing (e.g. {lost.before[:5]})"
    if lost.after:
        observed += f"; {len(lost.after)} writes acknowledged after the restore are missing (e.g. {lost.after[:5]})"
    if lost.unexpected:
        observed += f"; {len(lost.unexpected)} values never written appeared"
    return observed


# ---- the expectation and the checker -------------------------------------------------------------


class Rpo(ExpectationModel):
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


def _check(exp: Rpo, ev: Evidence) -> list[Verdict]:
    s = ev.scenario
    failure_at, failure_done = restored_failure(ev.events)
    return [check_rpo(ev.ops, exp.signal, ev.facts.final_reads.get(exp.signal), backups_from_events(ev.events),
                      restore_from_events(ev.events), failure_at=failure_at, failure_done=failure_done,
                      rate=s.workload[exp.signal].rate if exp.signal in s.workload else 0.0,
                      interval_s=s.backup.interval if s.backup else None, max_rpo_s=exp.max_rpo,
                      max_lost=exp.max_lost, why=exp.why)]


def _problems(exp: Mapping[str, Any], view: FileView) -> Iterable[tuple[Loc, str]]:
    yield from needs_a_backup(exp, view)
    not_driven = signal_not_driven(exp, view, name_driven=False)
    component = view.backup.get("component") if view.backup else None
    signal = exp.get("signal")
    if not_driven:
        yield from not_driven
    elif component and isinstance(signal, str) and not signal.startswith(f"{component}."):
        yield ("signal",), f"the backups are of {component}; {signal} is not written there"


def _judged(key: str) -> TargetDefault:
    """A target the file leaves to the checker: as the verdict judged it."""
    def target(exp: Mapping[str, Any], scenario: Mapping[str, Any], verdict: Mapping[str, Any] | None) -> float | None:
        return number(((verdict or {}).get("bound") or {}).get(key))
    return target


def _lost_target(exp: Mapping[str, Any], scenario: Mapping[str, Any],
                 verdict: Mapping[str, Any] | None) -> float | None:
    """The writes the verdict allowed; where it judged none (a run NOT RUN), the window at the rate."""
    judged = _judged("max_lost")(exp, scenario, verdict)
    if judged is not None:
        return judged
    rate = number(((scenario.get("workload") or {}).get(exp.get("signal")) or {}).get("rate"))
    window = number(exp.get("max_rpo"))
    return None if rate is None or window is None else lost_bound(rate, window, None)


CHECKER = Checker(
    Rpo, _check, subject=lambda exp, scenario: str(exp.get("signal")), problems=_problems,
    metrics=(Metric("RPO", "s", "rpo_s", bound="max_rpo_s", target="max_rpo", target_default=_judged("max_rpo_s"),
                    junit="rpo_s"),
             # `max_lost` bounds the writes lost after the backup only, not this total
             Metric("RPO", "writes", "lost", target="max_lost", target_default=_lost_target,
                    junit="rpo_lost_writes")))
