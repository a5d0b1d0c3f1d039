"""Synthetic but complete `reports/<run-id>/` directories, written by the real writers.

A run is a real scenario file (scenarios/*.yaml), a history written through `History` (ops at the
workload's rates, an outage of the primary signal while the fault holds), verdicts from the real
`evaluate`, a journal from `Journal`, JUnit from `write_junit`, sealed by `evidence.seal` — the
same path as `Drill._write`, without containers.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from drills.backup.model import Backup
from drills.checkers.registry import CHECKERS
from drills.core.effective_config import EffectiveConfig
from drills.core.events import (
    BackupRecorded,
    DrillEnded,
    FaultApplied,
    HoldEnded,
    LeaderSample,
    Phase,
    PhaseBegan,
    RestoreEnded,
    RestoreStarted,
    write,
)
from drills.core.history import History, Op, Outcome, load
from drills.files.scenario import Scenario, load_scenario
from drills.records.evidence import seal
from drills.records.journal import FaultRecord, Journal, PhaseRecord, environment
from drills.records.junit import write_junit
from drills.run.evaluate import RunFacts, evaluate, pacing
from drills.run.runner import new_run_id, not_run
from tests.unit.test_stack_effective import reference_config

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


@functools.cache
def scenario(name: str = "postgres-leader-kill") -> tuple[Path, Scenario]:
    path = SCENARIOS / f"{name}.yaml"
    return path, load_scenario(path)


def make_run(reports_dir: Path, *, name: str = "postgres-leader-kill", outage: tuple[float, float] = (5.3, 14.1),
             lost: int = 0, status: str | None = None, reason: str = "", secrets: dict[str, str] | None = None,
             do_seal: bool = True, fault_at: float = 5.0, hold: float = 10.0, after: float = 6.0,
             backup_at: float | None = None, effective: dict[str, Any] | None = None, spacing: float = 1.0) -> Path:
    """One finished run; `outage` (start, end) of the primary signal; `lost` acknowledged writes
    missing from the final read; `status` "error"/"aborted" for a run that stopped early.
    `backup_at`: a restore drill (a scenario with `backup:`): one backup taken from then (1 s long),
    restored from the heal on (2 s); the primary signal's writes acknowledged from the backup's start
    to the restore's end are lost, as a restore loses them. `effective`: entries of the journal's
    environment about the configuration drilled (`effective`, `effective_after`); None: the
    reference stack's, as a run on it records (`{}`: none recorded). `spacing`: the ops' starts
    apart, in periods of their configured rate (above 1: the clients fell behind)."""
    path, sc = scenario(name)
    run_id = new_run_id(sc.id)
    out = reports_dir / run_id
    out.mkdir(parents=True)
    signals = list(sc.workload)
    heal_at = fault_at + hold
    ready_at = heal_at + 4.0
    end = ready_at + after
    acked: dict[str, list[int]] = {s: [] for s in signals}
    restored_at = heal_at + 2.0
    lost_by_restore: set[int] = set()
    with History(out / "history.jsonl") as h:
        for phase, at in ((Phase.WARM_UP, 0.0), (Phase.STEADY, 0.2), (Phase.INJECT, fault_at),
                          (Phase.HOLD, fault_at + 0.1), (Phase.HEAL, heal_at), (Phase.RECOVER, heal_at + 0.2),
                          (Phase.AFTER, ready_at)):
            about = phase in (Phase.INJECT, Phase.HEAL)
            write(h, PhaseBegan(phase, at, "kill postgres.leader" if about else "", "0-kill-abc123" if about else ""))
        write(h, HoldEnded(heal_at))
        write(h, DrillEnded(end))
        failovers = [e for e in sc.expectations if e.checker == "failover"]
        if failovers:
            # The leaders sampled, as the runner records them for a failover expectation: the first
            # node hit and the second leading from the end of the outage on.
            first, second = ("rabbit1", "rabbit2") if sc.component == "rabbitmq" else ("pg1", "pg2")
            write(h, FaultApplied(fault_at + 0.1, "kill", str(sc.steps[0].target), (first,)))
            for exp in failovers:
                key = CHECKERS["failover"].sampled(exp)
                for at, leaders in ((0.2, [first]), (fault_at + 0.05, []), (outage[1], [second]), (end, [second])):
                    write(h, LeaderSample(at, key, tuple(leaders)))
        for k, signal in enumerate(signals):
            step = spacing / sc.workload[signal].rate
            t, i = 0.2, 0
            while t < end:
                down = k == 0 and outage[0] <= t < outage[1]
                outcome = Outcome.FAIL if down else Outcome.OK
                error = "connection refused (password=hunter2)" if down else None
                h.append(Op(signal, 0, "publish" if signal == "rabbitmq.publish" else "write", i, t, t + step / 2,
                            outcome, error))
                if outcome is Outcome.OK:
                    acked[signal].append(i)
                    if k == 0 and backup_at is not None and backup_at <= t + step / 2 < restored_at:
                        lost_by_restore.add(i)
                    if signal == "rabbitmq.publish":
                        h.append(Op("rabbitmq.consume", 0, "consume", i, t + step / 2, t + step * 0.8, Outcome.OK))
                t, i = t + step, i + 1
        if backup_at is not None:
            assert sc.backup is not None, f"{name} takes no backup"
            backup = Backup("b-1", sc.backup.component, sc.backup.method, backup_at, backup_at + 1.0, True,
                            point_s=backup_at + 0.5, rows=1000, max_seq=999,
                            checksum="9e107d9d372bb6826bd81d3542a419d6")
            write(h, BackupRecorded(backup.ended_s, backup.to_event_data()))
            write(h, RestoreStarted(heal_at, "0-kill-abc123", backup.id, backup.component, backup.method))
            write(h, RestoreEnded(restored_at, "0-kill-abc123", backup.id, ok=True, rows=backup.rows,
                                  max_seq=backup.max_seq, checksum=backup.checksum,
                                  steps_s={"new-cluster": 1.2, "load": 0.8}))
    ops, events = load(out / "history.jsonl")
    reads: dict[str, Any] = {s: set(v[lost:] if s == signals[0] else v) - lost_by_restore for s, v in acked.items()}
    facts = RunFacts(final_reads=reads, drained=True, recovered_after_s=ready_at - heal_at)
    env = environment({"postgres": "drills/postgres:3f2a1b", "rabbitmq": "drills/rabbitmq:9c8d7e"})
    env["stack_env"] = dict(secrets or {})
    recorded = {"effective": reference_effective()} if effective is None else effective
    env.update(recorded)
    journal = Journal(run_id, sc.model_dump(mode="json", by_alias=True), str(path), environment=env)
    journal.phases = [PhaseRecord("warm-up", 0.0, 0.2, "ok"), PhaseRecord("steady", 0.2, fault_at, "ok"),
                      PhaseRecord("inject", fault_at, fault_at + 0.1, "ok", "kill postgres.leader -> pg1"),
                      PhaseRecord("hold", fault_at + 0.1, heal_at, "ok"), PhaseRecord("heal", heal_at, heal_at + 0.2),
                      PhaseRecord("recover", heal_at + 0.2, ready_at, "ok"), PhaseRecord("after", ready_at, end, "ok")]
    journal.faults = [FaultRecord("0-kill-abc123", "kill", "postgres.leader", ["pg1"], fault_at, heal_at)]
    journal.recovery = {"waits_s": {"postgres": 4.0}, "since_heal_s": ready_at - heal_at}
    config = recorded.get("effective")
    verdicts = [] if status in ("error", "aborted") else evaluate(
        sc, ops, events, facts, EffectiveConfig.from_json(config) if isinstance(config, dict) else None)
    journal.status = status or ("passed" if all(v.passed for v in verdicts) else "failed")
    journal.reason = reason
    journal.timings = {"wall_s": end, "scheduled_s": sc.steady + hold + sc.after}
    journal.verdicts = [v.to_json() for v in verdicts]
    journal.pacing = [] if status in ("error", "aborted") else [p.to_json() for p in pacing(sc, ops, events)]
    journal.write(out / "journal.json")
    write_junit(out / "junit.xml", sc.id, verdicts, duration_s=end, error=reason if status == "error" else None)
    if do_seal:
        seal(out)
    return out


def reference_effective() -> dict[str, Any]:
    """The reference stack's configuration as a run records it, with the queue the RabbitMQ drills
    publish to (`drill-events`, a quorum queue like the application's own)."""
    doc = reference_config().to_json()
    queues = doc["parts"]["rabbitmq"]["settings"].setdefault("queues", {})
    queues.setdefault("drill-events", dict(queues["scheduled-runs"]))
    return doc


def make_not_run(reports_dir: Path, name: str = "rabbitmq-node-partition", reason: str = "image mongo:7 absent",
                 stack: dict[str, Any] | None = None) -> Path:
    """`stack`: the stack it was fitted to, as `StackDefinition.record` writes it (None: not recorded)."""
    path, sc = scenario(name)
    result = not_run(sc, path, reports_dir, reason, stack=stack)
    assert result.out_dir is not None
    return result.out_dir
