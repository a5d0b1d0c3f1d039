"""Run one scenario against a stack: steady -> inject -> hold -> heal -> recover -> after -> check.

The runner only sequences: faults come from `drills.faults`, traffic from `drills.workload`,
judgement from `drills.checkers` (through `drills.run.evaluate`). Whatever happens — an expectation
broken, an exception, Ctrl-C, SIGTERM or SIGHUP — every fault applied is healed before the runner returns
or raises, and the journal records how far the drill got.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from drills.backup.model import attempts_text
from drills.backup.schedule import BackupSchedule, start_backups
from drills.checkers.protocol import Watch
from drills.checkers.registry import samples_plan, watches_of
from drills.checkers.verdict import Status, Verdict
from drills.core import interrupts
from drills.core.effective_config import compared
from drills.core.errors import DrillsError, HarnessError, ScenarioError, StackError
from drills.core.events import DrillEnded, DrillEvent, FaultApplied, HoldEnded, Phase, PhaseBegan, write
from drills.core.history import History, Sustained, load
from drills.faults import heal, ledger, registry
from drills.faults.base import FaultContext
from drills.faults.step import StepBase, heals_after
from drills.files.scenario import Scenario
from drills.files.scenario_schema import SAME_TARGET
from drills.records.evidence import seal
from drills.records.journal import FaultRecord, Journal, PhaseRecord, environment
from drills.records.junit import write_junit
from drills.records.result import RunResult
from drills.records.signing import Signer
from drills.run.evaluate import RunFacts, evaluate, pacing
from drills.sampling import registry as sampling
from drills.sampling.base import Sampler
from drills.stack.effective import read_effective
from drills.stack.image_digests import image_digests

if TYPE_CHECKING:
    from drills.core.history import Op
    from drills.stack.project import ComposeProject

WARMUP_TIMEOUT_S = 60.0


class Workload(Protocol):
    """The clients of every signal of a scenario (see drills.workload.suite)."""

    def start(self) -> None: ...
    def first_ok(self) -> set[str]:
        """Signals that have had at least one ok op."""
        ...
    def stop(self) -> None: ...
    def final_reads(self) -> dict[str, Collection[object] | None]: ...
    def drain(self) -> bool:
        """Consume what is left; True when every queue was emptied."""
        ...


WorkloadFactory = Callable[[Scenario, "ComposeProject", Callable[["Op"], None], float], Workload]


class Progress(Protocol):
    def phase(self, name: str, detail: str = "") -> None: ...


def new_run_id(scenario_id: str) -> str:
    return f"{time.strftime('%Y%m%dT%H%M%S')}-{scenario_id}-{uuid.uuid4().hex[:6]}"


class Drill:
    signer: Signer | None = None  # signs the run's manifest when it is sealed (drills.records.signing)

    def __init__(self, scenario: Scenario, scenario_file: Path, stack: ComposeProject, *, reports_dir: Path,
                 workload_factory: WorkloadFactory, progress: Progress, left_out: Sequence[str] = (),
                 lacks: Sequence[str] = (), brought_back: str = "", signer: Signer | None = None) -> None:
        """`left_out`: the parts of the scenario file this stack cannot drive (a bystander signal
        of a component it does not have), already taken out of `scenario`: recorded in the journal
        as NOT RUN (`left_out`, and the run's `reason`), never as passed. `lacks`: the roles of
        those parts, recorded with the stack drilled (`environment.stack`). `brought_back`: why the
        stack had to be brought back to its baseline before this drill ("" when it was there),
        kept in the run's reason: what the drill before it left is never silent."""
        self.s = scenario
        self.stack = stack
        self.signer = signer
        self.run_id = new_run_id(scenario.id)
        self.out = reports_dir / self.run_id
        self.out.mkdir(parents=True, exist_ok=True)
        self.progress = progress
        self.make_workload = workload_factory
        # The configuration drilled, read back from the stack at its baseline, before any fault.
        self.effective = read_effective(stack)
        self.journal = Journal(self.run_id, scenario.model_dump(mode="json", by_alias=True), str(scenario_file),
                               environment=environment(dict(stack.settings.images), self.effective.to_json(),
                                                       stack.definition.record(stack.settings.roles, lacks),
                                                       image_digests(stack)),
                               left_out=list(left_out), reason="; ".join(filter(None, [*left_out, brought_back])))
        self.t0 = time.monotonic()
        self.history = History(self.out / "history.jsonl")
        self.applied: list[ledger.Entry] = []
        self.samplers: list[Sampler] = []  # who claims leadership, through the drill
        self.backups: BackupSchedule | None = None  # the scenario's `backup:` schedule, if it has one

    def now(self) -> float:
        return time.monotonic() - self.t0

    def _event(self, event: DrillEvent) -> None:
        write(self.history, event)

    @contextmanager
    def phase(self, phase: Phase, detail: str = "", *, fault: str = "") -> Iterator[PhaseRecord]:
        """`fault`: the id of the fault an inject or heal phase is about."""
        record = PhaseRecord(phase.value, self.now(), detail=detail)
        self.journal.phases.append(record)
        self._event(PhaseBegan(phase, record.start_s, detail, fault))
        self.progress.phase(phase.value, detail)
        try:
            yield record
        except BaseException as exc:
            record.status = "aborted" if isinstance(exc, KeyboardInterrupt | SystemExit) else "failed"
            record.detail = (record.detail + f" | {type(exc).__name__}: {exc}").strip(" |")
            raise
        else:
            record.status = "ok"
        finally:
            record.end_s = self.now()

    def run(self) -> RunResult:
        facts = RunFacts()
        workload = self.make_workload(self.s, self.stack, self.history.append, self.t0)
        try:
            self._reach_steady_state(workload)
            served = self._watch_served()
            first_inject, last_heal = self._apply_steps(served)
            facts = self._recover(last_heal)
            with self.phase(Phase.AFTER, f"{self.s.after:g} s"):
                time.sleep(self.s.after)
            self._wait_served(served, first_inject, last_heal)
            self._event(DrillEnded(self.now()))
        except (KeyboardInterrupt, SystemExit) as exc:
            self.journal.status = "aborted"
            self.journal.reason = interrupts.describe(exc)
            raise
        except DrillsError as exc:
            self.journal.status = "error"
            self.journal.reason = str(exc)
        except Exception as exc:
            self.journal.status = "error"
            self.journal.reason = f"{type(exc).__name__}: {exc}"
        finally:
            # Nothing stops this halfway: a signal arriving now waits until the faults are healed
            # and the run recorded (the caller then stops, `interrupts.raise_pending`), and once
            # the drill is unwinding, later signals are ignored (drills.core.interrupts).
            with interrupts.shielded(raise_on_exit=False):
                facts = self._wind_down(workload, facts)
        return self._judge(facts)

    def _reach_steady_state(self, workload: Workload) -> None:
        """Warm up (every signal served once), start the backups and the samplers, hold steady."""
        with self.phase(Phase.WARM_UP, "clients connect; each signal must succeed once"):
            workload.start()
            self._warm_up(workload)
        # Backups are taken under load, as a real schedule's are, from the end of the warm-up: every
        # signal has written by then, so each backup holds acknowledged writes the RPO is measured on.
        self.backups = start_backups(self.s, self.stack, self.history, self.now, self.out / "backups")
        self.samplers = self._start_samplers()
        with self.phase(Phase.STEADY, f"{self.s.steady:g} s") as rec:
            time.sleep(self.s.steady)
            self._wait_for_a_backup(rec)

    def _apply_steps(self, served: list[tuple[Sustained, Watch]]) -> tuple[float | None, float | None]:
        """Each step in turn: inject, hold, then heal what is due at the end of its hold. Returns when
        the first fault was injected and when the last heal was done (None: nothing healed)."""
        heals = heals_after(self.s.steps)
        applied: list[tuple[ledger.Entry, FaultRecord]] = []
        first_inject: float | None = None
        last_heal: float | None = None
        for i, step in enumerate(self.s.steps):
            entry, injected = self._inject(i, step)
            first_inject = injected if first_inject is None else first_inject
            with self.phase(Phase.HOLD, f"{step.hold:g} s"):
                time.sleep(step.hold)
            self._event(HoldEnded(self.now()))
            applied.append((entry, self.journal.faults[-1]))
            for j in heals[i]:  # this step, and those that stayed applied through it (overlaps_next)
                last_heal = self._heal(self.s.steps[j], *applied[j], served)
        return first_inject, last_heal

    def _inject(self, i: int, step: StepBase) -> tuple[ledger.Entry, float]:
        """Apply the `i`th step's fault to whoever holds its target now; returns its ledger entry and
        when its inject phase began."""
        fault_id = f"{i}-{step.fault}-{uuid.uuid4().hex[:6]}"
        fault = registry.fault_of(step)
        if fault.needs_backup and self.backups is not None:
            self.backups.stop()  # no backup of the new, empty cluster is taken or restored
        with self.phase(Phase.INJECT, f"{step.fault} {step.target}", fault=fault_id) as rec:
            target = self._target_of(step.target)
            services = self._holder_of(target, rec)
            entry = fault.inject(step.model_copy(update={"target": target}), self._context(fault_id))
            self.applied.append(entry)
            rec.detail += f" -> {', '.join(services)}"
            self.journal.faults.append(FaultRecord(fault_id, step.fault, step.target, services,
                                                   round(self.now(), 3)))
            self._event(FaultApplied(self.now(), step.fault, step.target, tuple(services), fault_id))
        return entry, rec.start_s

    def _heal(self, step: StepBase, entry: ledger.Entry, record: FaultRecord,
              served: list[tuple[Sustained, Watch]]) -> float:
        """Heal one applied fault; the watched signals count their recovery from then. Returns when."""
        with self.phase(Phase.HEAL, f"{step.fault} {step.target}", fault=record.id):
            heal.heal_entry(self.stack.client, entry, compose=self.stack.compose)
            healed = self.now()
            record.healed_s = round(healed, 3)
            for watch, _ in served:
                watch.restart(healed)
        return healed

    def _wind_down(self, workload: Workload, facts: RunFacts) -> RunFacts:
        """However the drill ended: stop the backups and samplers, heal every fault, read back and
        stop the workload, keep the logs, close the history. An aborted run is recorded here (it
        is not judged); the facts come back with the final reads."""
        if self.backups is not None:
            self.backups.close()  # no backup of a stack being healed; the restore step, if any, is over
        for sampler in self.samplers:
            sampler.close()
        self._heal_everything()
        facts = self._finish_workload(workload, facts)
        self._collect_logs()
        self.history.close()
        if self.journal.status != "aborted":
            self._compare_effective()
        if self.journal.status == "aborted":
            self._write([], None)
        return facts

    def _collect_logs(self) -> None:
        """Every container's log for the drill's window into the run's logs/ (sealed with the rest),
        and what the system logged it did (promotions, leaders, nodes down) into the history as
        `SystemEvent`s, before the history is judged and the report draws them beside the faults."""
        from drills.stack.logs import collect_logs

        # The drill's t=0 as a Unix epoch: the docker log's timestamps are the wall clock.
        collected = collect_logs(self.stack, self.out / "logs", origin=time.time() - self.now())
        for event in collected.events:
            self._event(event)

    def _compare_effective(self) -> None:
        """Read the configuration again once the drill is over: a restore or a rebuilt cluster can
        come back configured otherwise (queues redeclared by a definitions import, Patroni
        bootstrapped again from its files, losing what `patronictl edit-config` had set)."""
        after = read_effective(self.stack)
        self.journal.environment["effective_after"] = compared(self.effective, after)

    def _wait_for_a_backup(self, rec: PhaseRecord) -> None:
        """A restore drill injects its failure into a schedule in its steady state: one backup done.
        How long the first one takes is the machine's speed (2.5 s here idle, over 14 s under a load
        of 100), and a failure landing before it completes would find nothing to restore: that
        would judge the machine, not the strategy. Bounded by the recovery timeout."""
        if self.backups is None or not any(registry.fault_of(step).needs_backup for step in self.s.steps):
            return
        waited_from = self.now()
        if not self.backups.wait_completed(self.s.recovery.timeout):
            # The attempts' own errors, said here: a user fixes a backup from what it said (a user
            # or a path the stack does not have), not from "never reached a steady state".
            tried = attempts_text(list(self.backups.catalog.backups), self.backups.count)
            raise DrillsError(f"no backup completed within {self.s.recovery.timeout:g} s after the steady phase: "
                              f"{tried}; the failure was not injected (nothing to restore)",
                              hint="fix what the backups said (the stack file names the users, database and data "
                                   "paths a backup uses: `drill schema --stack`); each attempt is a backup event "
                                   "in history.jsonl")
        if (extra := self.now() - waited_from) > 0.05:
            rec.detail += f" + {extra:.1f} s until the first backup completed"

    def _target_of(self, role: str) -> str:
        """`same`: the very node the previous step acted on, whatever its role is now (a corrupted
        replica that no longer streams is no `postgres.replica` any more, yet the runbook's next
        step replaces that node)."""
        if role != SAME_TARGET:
            return role
        resolved = self.journal.faults[-1].resolved if self.journal.faults else []
        if len(resolved) != 1:
            raise ScenarioError(f"target `same` needs a previous step that acted on one node, got {resolved}")
        return str(resolved[0])

    def _holder_of(self, target: str, rec: PhaseRecord) -> list[str]:
        """The services that hold `target` now. A role the system assigns (`postgres.leader`, the
        replicas, a queue's leader) can be held by nobody for a while: right after a heal, a cluster
        restarted whole elects its leader, killed replicas are not streaming yet. The step means
        whoever holds the role, so it waits for a holder, at most the recovery timeout, and the
        phase says how long; a stack that never has one is an ERROR, as before."""
        from drills.core.roles import parse_role

        try:
            dynamic = parse_role(target).dynamic
        except Exception:  # not a role (`clients`, a service name): resolved as it is
            dynamic = False
        start, deadline = self.now(), self.now() + self.s.recovery.timeout
        while True:
            services: list[str] = []
            try:
                services = self.stack.services(target)
            except StackError:
                if not dynamic or self.now() >= deadline:
                    raise
            if services or not dynamic or self.now() >= deadline:
                if self.now() - start >= 0.25:
                    rec.detail += f" (waited {self.now() - start:.1f} s for a holder of {target})"
                return services
            time.sleep(0.25)

    def _context(self, fault_id: str) -> FaultContext:
        """What a fault is handed: the stack, the drill's history and clock, the backups taken."""
        return FaultContext(self.stack, fault_id, recorder=self.history, clock=self.now,
                            backups=self.backups.catalog if self.backups is not None else None)

    def _warm_up(self, workload: Workload) -> None:
        deadline = time.monotonic() + WARMUP_TIMEOUT_S
        wanted = set(self.s.workload)
        while not wanted <= workload.first_ok():
            if time.monotonic() > deadline:
                missing = ", ".join(sorted(wanted - workload.first_ok()))
                raise HarnessError(f"no successful operation within {WARMUP_TIMEOUT_S:.0f} s for: {missing}",
                                   hint="the stack is not serving; see `drill stack status` and its logs")
            time.sleep(0.05)

    def _recover(self, since_heal: float | None) -> RunFacts:
        from drills.core.wait import WaitTimeout, run_all
        from drills.stack.readiness import ready_waits

        with self.phase(Phase.RECOVER, f"timeout {self.s.recovery.timeout:g} s") as rec:
            start = self.now()
            try:
                waits = run_all(ready_waits(self.stack, self.s.recovery.timeout), since=time.monotonic())
            except WaitTimeout as exc:
                rec.detail += f" | gave up: {exc}"
                self.journal.recovery = {"timed_out": True, "last_seen": exc.last.detail}
                return RunFacts(recovery_timed_out=True, recovery_last_seen=f"{exc.description}: {exc.last.detail}")
            ready_at = start + max(waits.values(), default=0.0)
            base = since_heal if since_heal is not None else start
            self.journal.recovery = {"waits_s": {k: round(v, 3) for k, v in waits.items()},
                                     "since_heal_s": round(ready_at - base, 3)}
            rec.detail += f" | ready {ready_at - base:.1f} s after the heal"
            return RunFacts(recovered_after_s=ready_at - base)

    def _start_samplers(self) -> list[Sampler]:
        """The samplers of every need the expectations' checkers declare (`Checker.samples`: the
        leaders for split-brain, failover, leader-changes), whatever the need: its kind comes from
        drills.sampling.registry."""
        return sampling.start(samples_plan(self.s.expectations), self.stack, self.history.event, self.now)

    def _watch_served(self) -> list[tuple[Sustained, Watch]]:
        """A live watch of each signal an expectation needs served again, as its checker declares it
        (`Checker.watches`: availability's RTO, back-after-heal): the drill must not end before
        that can be judged."""
        watches = [(Sustained(w.signal, sustain_s=w.sustain_s, sustain_ops=w.sustain_ops), w)
                   for w in watches_of(self.s.expectations)]
        self.history.watchers.extend(s for s, _ in watches)
        return watches

    def _wait_served(self, watches: list[tuple[Sustained, Watch]], first_inject: float | None,
                     last_heal: float | None) -> None:
        """After the `after` phase, until each watched signal is served, sustained, since the last
        heal, or its bound (and the sustain) has passed: a history that ends first would leave a
        recovery NOT MEASURED, or a readiness that came before the traffic read as "never
        recovered", however long the stack really took. How long the machine makes this is the
        stack's, not the scenario's: it is a phase of its own."""
        if last_heal is None or first_inject is None or not watches or all(s.back for s, _ in watches):
            return
        anchors = {Phase.INJECT: first_inject, Phase.HEAL: last_heal}
        until = max(anchors[w.anchor] + w.bound_s + w.sustain_s for _, w in watches) + 1.0
        with self.phase(Phase.SERVED, "until each signal is back after the heal, or its bound has passed") as rec:
            while self.now() < until and not all(s.back for s, _ in watches):
                time.sleep(0.2)
            shown = dict.fromkeys(f"{s.signal} " + (f"back at t={s.back_at:.1f} s" if s.back_at is not None
                                                    else "not back") for s, _ in watches)
            rec.detail += " | " + ", ".join(shown)

    def _heal_everything(self) -> None:
        try:
            heal.heal_pending(self.stack.client, self.stack.project, compose=self.stack.compose)
        except DrillsError as exc:
            self.journal.status = "error"
            self.journal.reason = (self.journal.reason + f"; heal failed: {exc}").strip("; ")

    def _finish_workload(self, workload: Workload, facts: RunFacts) -> RunFacts:
        with self.phase(Phase.FINAL_READS, "stop clients, read back, drain queues"):
            workload.stop()
            drained = workload.drain()
            reads = workload.final_reads()
        return RunFacts(final_reads=reads, drained=drained, recovered_after_s=facts.recovered_after_s,
                        recovery_timed_out=facts.recovery_timed_out, recovery_last_seen=facts.recovery_last_seen)

    def _judge(self, facts: RunFacts) -> RunResult:
        ops, events = load(self.out / "history.jsonl")
        judged = self.journal.status == "running"
        verdicts = evaluate(self.s, ops, events, facts, self.effective) if judged else []
        # Recorded beside the verdicts, changing none of them: whether a drill whose clients fell
        # behind is judged at all is decided by its caller (`drill explore` runs it again).
        paced = pacing(self.s, ops, events) if judged else []
        self.journal.pacing = [p.to_json() for p in paced]
        if errors := [v for v in verdicts if v.status is Status.ERROR]:
            self.journal.status = "error"
            self.journal.reason = "; ".join(f"checker {v.checker} ({v.subject}) raised: {v.observed.split(': ', 1)[-1]}"
                                            for v in errors) + " (tracebacks in journal.json)"
        elif self.journal.status == "running":
            self.journal.status = "passed" if verdicts and all(v.passed for v in verdicts) else "failed"
        self.journal.timings = {"wall_s": round(self.now(), 3), "scheduled_s": self.scheduled_s()}
        self._write(verdicts, self.journal.reason if self.journal.status == "error" else None)
        return RunResult(self.run_id, self.s.id, self.journal.status, verdicts, self.out, self.journal.reason,
                         self.now(), facts.recovered_after_s, self.scheduled_s(), self.s.policy, paced)

    def scheduled_s(self) -> float:
        return self.s.steady + sum(st.hold for st in self.s.steps) + self.s.after

    def _write(self, verdicts: list[Verdict], error: str | None) -> None:
        self.journal.verdicts = [v.to_json() for v in verdicts]
        self.journal.write(self.out / "journal.json")
        write_junit(self.out / "junit.xml", self.s.id, verdicts, duration_s=self.now(), error=error)
        seal(self.out, self.signer)


def not_run(scenario: Scenario, scenario_file: Path, reports_dir: Path, reason: str, *,
            error: bool = False, stack: dict[str, Any] | None = None, signer: Signer | None = None) -> RunResult:
    """A scenario that cannot run here is recorded as NOT RUN, with why; never as passed.
    `error`: it could not start for a failure of the harness or the stack (an ERROR). `stack`:
    the stack it was fitted to, with what it lacks (`StackDefinition.record`)."""
    run_id = new_run_id(scenario.id)
    out = reports_dir / run_id
    out.mkdir(parents=True, exist_ok=True)
    status = "error" if error else "not-run"
    journal = Journal(run_id, scenario.model_dump(mode="json", by_alias=True), str(scenario_file),
                      status=status, reason=reason, environment=environment(stack=stack))
    journal.write(out / "journal.json")
    write_junit(out / "junit.xml", scenario.id, [], duration_s=0.0, not_run_reason=None if error else reason,
                error=reason if error else None)
    seal(out, signer)
    return RunResult(run_id, scenario.id, status, [], out, reason, policy=scenario.policy)


def summary_counts(results: list[RunResult]) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    unmeasured = sum(1 for r in results for v in r.verdicts if v.status is Status.NOT_MEASURED)
    return {"runs": counts, "not_measured_verdicts": unmeasured}
