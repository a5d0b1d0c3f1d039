"""Scenario expectations -> checker calls -> verdicts. Pure: the history and the run's facts in."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from drills.backup.model import backups_from_events, restore_from_events
from drills.checkers.availability import check_availability
from drills.checkers.backup_integrity import check_backup_integrity
from drills.checkers.lost_writes import check_lost_writes
from drills.checkers.queue import check_queue
from drills.checkers.resync import check_resync
from drills.checkers.rpo import check_rpo
from drills.checkers.sessions import check_sessions
from drills.checkers.split_brain import check_split_brain
from drills.checkers.steady_state import check_steady_state
from drills.checkers.verdict import Verdict
from drills.history import Event, Op, first_event, last_event
from drills.scenario import (
    Availability,
    BackupIntegrity,
    LostWrites,
    QueueLoss,
    Resync,
    Rpo,
    Scenario,
    Sessions,
    SplitBrain,
    SteadyState,
)

PUBLISH, CONSUME = "rabbitmq.publish", "rabbitmq.consume"


@dataclass(frozen=True)
class RunFacts:
    """What the runner measured besides the history."""

    final_reads: dict[str, Collection[object] | None] = field(default_factory=dict)
    drained: bool = False
    recovered_after_s: float | None = None  # from the last heal to every component ready
    recovery_timed_out: bool = False
    recovery_last_seen: str = ""


def _injected(events: Sequence[Event], since: float | None) -> float | None:
    """When the first fault's injection completed (its `fault` event follows the `inject` phase)."""
    if since is None:
        return None
    return min((e.at for e in events if e.name == "fault" and e.at >= since), default=None)


def evaluate(s: Scenario, ops: Sequence[Op], events: Sequence[Event], facts: RunFacts) -> list[Verdict]:
    fault_at = first_event(events, "inject")
    fault_end = last_event(events, "heal") or last_event(events, "hold-end")
    steady_from = first_event(events, "steady") or 0.0
    after_from = first_event(events, "after")
    end = last_event(events, "end")
    verdicts: list[Verdict] = []
    for exp in s.expectations:
        if isinstance(exp, Availability):
            # From the steady phase on: the warm-up's connection attempts are not part of the drill.
            verdicts.append(check_availability(
                ops, exp.signal, fault_at=fault_at, fault_end=fault_end, max_outage_s=exp.max_outage,
                max_error_rate=exp.max_error_rate, max_fault_error_rate=exp.max_error_rate_during_fault,
                max_rto_s=exp.max_rto, sustain_s=exp.sustain, sustain_ops=exp.sustain_ops, since=steady_from,
                why=exp.why))
        elif isinstance(exp, LostWrites):
            verdicts.append(check_lost_writes(ops, exp.signal, facts.final_reads.get(exp.signal),
                                              max_lost=exp.max_lost, why=exp.why))
        elif isinstance(exp, QueueLoss):
            verdicts.append(check_queue(ops, PUBLISH, CONSUME, drained=facts.drained, max_lost=exp.max_lost,
                                        max_duplicates=exp.max_duplicates, why=exp.why))
        elif isinstance(exp, Resync):
            verdicts.append(check_resync(exp.component or s.component or "stack", facts.recovered_after_s,
                                         timed_out=facts.recovery_timed_out, max_resync_s=exp.max_resync,
                                         last_seen=facts.recovery_last_seen, why=exp.why))
        elif isinstance(exp, SteadyState):
            for signal in exp.signals or tuple(s.workload):
                before = (steady_from, fault_at if fault_at is not None else steady_from + s.steady)
                verdicts.append(check_steady_state(ops, signal, window=before, label="before the fault",
                                                   min_success_rate=exp.min_success_rate, min_ops=exp.min_ops,
                                                   why=exp.why))
                after = (after_from if after_from is not None else float("inf"),
                         end if end is not None else float("inf"))
                verdicts.append(check_steady_state(ops, signal, window=after, label="after recovery",
                                                   min_success_rate=exp.min_success_rate, min_ops=exp.min_ops,
                                                   why=exp.why))
        elif isinstance(exp, Sessions):
            lost = {str(name) for e in events if e.name == "fault" for name in e.data.get("resolved", ())}
            verdicts.append(check_sessions(ops, exp.signal, fault_at=fault_at, lost_instances=lost,
                                           max_lost_share=exp.max_lost_share, why=exp.why))
        elif isinstance(exp, SplitBrain):
            verdicts.append(check_split_brain(events, exp.component, max_overlap_s=exp.max_overlap, why=exp.why))
        # ---- backup and restore: facts from the history's backup / restore-* events ----
        elif isinstance(exp, Rpo):
            verdicts.append(check_rpo(ops, exp.signal, facts.final_reads.get(exp.signal), backups_from_events(events),
                                      restore_from_events(events), failure_at=fault_at,
                                      failure_done=_injected(events, fault_at),
                                      rate=s.workload[exp.signal].rate if exp.signal in s.workload else 0.0,
                                      interval_s=s.backup.interval if s.backup else None,
                                      max_rpo_s=exp.max_rpo, max_lost=exp.max_lost, why=exp.why))
        elif isinstance(exp, BackupIntegrity):
            verdicts.append(check_backup_integrity(s.backup.component if s.backup else (s.component or "stack"),
                                                   backups_from_events(events), restore_from_events(events),
                                                   failure_at=fault_at, max_rto_s=exp.max_rto, why=exp.why))
    return verdicts
