"""The search of `drill explore`, apart from what runs an example: Hypothesis draws schedules from
the fault space, `run(steps)` judges each (on the real stack: a drill), and a failing schedule is
shrunk, each smaller candidate judged the same way.

Real systems are not deterministic, and Hypothesis assumes they are. So here:

- a schedule is judged once: its verdict is remembered (`Tally`), and Hypothesis asking again
  (its final replay, a shrink pass trying the same schedule) costs no drill and gets the same answer;
- invariants are of two kinds (`drills.checkers.protocol.Checker.invariant`). A *safety* one (no
  acknowledged write lost, never two leaders) is broken when one run's history shows it: a
  schedule that broke it in any judged run fails, a finding with its observed rate ("1 of 3
  runs"), never "flaky". A *liveness* one (back within a bound, resynced) may be broken by one
  slow run: a schedule fails on it when most of its runs failed (`confirm` runs at most: with 3,
  2 of 2 or 2 of 3); one that failed in fewer is kept and reported as flaky;
- the first failing schedule is re-run up to `confirm` (k) times: its rate is what a replay may
  expect. While shrinking a safety finding, each smaller candidate is run up to k times too,
  stopping at the first run that breaks the invariant sought: a violation seen 1 run in 3 would
  otherwise be lost by every candidate whose one run was lucky. While shrinking a liveness
  finding, a candidate whose first run held is not re-run (the majority rule);
- while shrinking, a candidate counts as failing only when an invariant that failed first fails
  again (for a safety finding: a safety invariant it broke): a smaller schedule that breaks
  something else is another finding, not a smaller one;
- the search is steered (`guided`): each schedule reports to Hypothesis what its drills measured
  toward trouble (`ScheduleOutcome.scores`: the longest outage, writes of unknown outcome, the
  time to resync; `hypothesis.target`), and after a few random schedules Hypothesis climbs from
  the best of them (its target phase) before drawing more at random, so schedules near a failure
  run before ones far from it. Shrinking is unchanged;
- the budget is checked before each run, against what that run is expected to take (`cost`: its
  schedule, and what the drills so far took beyond theirs): a drill that would end after the budget
  is not started, and a schedule that was being shrunk is reported as the smallest found, not as
  minimal;
- an error of the harness (`run` raising: a stack that cannot be brought back) stops the search
  and is raised once Hypothesis has returned; Hypothesis never shrinks on it.

The example database (`database`, a directory in the state directory) keeps each failing
schedule, so the next search of the same exploration replays it first.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, Phase, find, settings, target
from hypothesis import core as hypothesis_core
from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase
from hypothesis.errors import NoSuchExample
from hypothesis.internal.conjecture import engine as hypothesis_engine
from hypothesis.internal.conjecture.pareto import NO_SCORE

from drills.explore.schedule import schedule_digest
from drills.explore.strategy import DrawnStep, schedules
from drills.files.exploration import Exploration

JUDGED = ("passed", "failed")  # a drill's statuses that judged its invariants
UNPACED = "unpaced"  # a drill whose workload did not keep its rate: nothing judged, run again as an ERROR is
# Schedules drawn at random before the search climbs from the best scores: enough that one of them
# came near something, few enough that the climb starts within a budget of drills.
GUIDED_AFTER = 3


@dataclass(frozen=True)
class ScheduleOutcome:
    """What one run of a schedule showed. `failed`: the invariants that failed (checker and
    subject, e.g. "lost-writes postgres.write"), `safety`: those of them that are safety ones;
    `status`: the drill's (passed, failed, error, not-run), or `unpaced`: its clients fell behind
    their configured rate (drills.workload.pacing), so it judged nothing, like an ERROR;
    `run_id`: where its records are;
    `scores`: how close it came to trouble, by label (larger is closer), what the search steers by."""

    status: str
    failed: tuple[str, ...] = ()
    run_id: str = ""
    safety: tuple[str, ...] = ()
    scores: dict[str, float] = field(default_factory=dict)


@dataclass
class Tally:
    """Every run of one schedule, and what was concluded from them."""

    steps: tuple[DrawnStep, ...]
    phase: str  # generate | shrink
    runs: list[ScheduleOutcome] = field(default_factory=list)
    failing: bool = False  # accepted as failing (a safety invariant in any run, or most runs failed)

    @property
    def failures(self) -> int:
        return sum(1 for r in self.runs if r.failed)

    @property
    def safety_failures(self) -> int:
        """Runs that broke a safety invariant: each one a violation shown by its history."""
        return sum(1 for r in self.runs if r.safety)

    @property
    def safety_broken(self) -> tuple[str, ...]:
        return tuple(sorted({name for r in self.runs for name in r.safety}))

    def broke(self, names: Iterable[str]) -> int:
        """Runs that failed on one of `names` (the invariants sought)."""
        wanted = set(names)
        return sum(1 for r in self.runs if wanted & set(r.failed))

    @property
    def scores(self) -> dict[str, float]:
        """The closest each run came to trouble, by label: the most of any run."""
        best: dict[str, float] = {}
        for r in self.runs:
            for label, value in r.scores.items():
                best[label] = max(value, best.get(label, value))
        return best

    @property
    def judged(self) -> int:
        """Runs that judged the invariants: a drill that ended in an ERROR (the stack not back at
        its baseline) says nothing of the schedule, neither held nor failed."""
        return sum(1 for r in self.runs if r.status in JUDGED)

    @property
    def flaky(self) -> bool:
        """A liveness invariant failed in some judged runs, not all: a broken safety invariant is
        never flaky (one run's history proves it)."""
        return 0 < self.failures < self.judged and not self.safety_failures


@dataclass
class SearchResult:
    seed: int
    examples: list[Tally]  # every schedule run, in order
    minimal: Tally | None = None  # the smallest failing schedule found
    sought: tuple[str, ...] = ()  # the invariants the first failing schedule broke (its safety ones, if any)
    safety: bool = False  # the finding broke a safety invariant: any of k runs breaking it shrinks it
    confirm: int = 3  # k: the runs a failing schedule (and, shrinking a safety finding, each candidate) may get
    guided: bool = True  # steered by the scores (hypothesis.target), or drawn at random
    shrink_steps: int = 0  # smaller failing schedules accepted after the first
    budget_spent: bool = False  # the budget ran out: a failing schedule may not be minimal
    runs: int = 0  # drills run, re-runs included

    @property
    def flaky(self) -> list[Tally]:
        return [t for t in self.examples if t.flaky]

    @property
    def rule(self) -> str:
        """How a failing schedule was accepted, in words."""
        if self.safety:
            return (f"safety: a schedule fails when any of its runs breaks the invariant (up to k={self.confirm} "
                    f"runs each, stopping at the first that breaks it)")
        return f"liveness: a schedule fails when most of its judged runs (at most k={self.confirm}) failed"


def database_at(folder: Path) -> DirectoryBasedExampleDatabase:
    """The example database of explorations (a folder of the state directory, in the runner)."""
    return DirectoryBasedExampleDatabase(str(folder))


def search(exploration: Exploration, run: Callable[[Sequence[DrawnStep]], ScheduleOutcome], *, seed: int,
           max_examples: int = 100, budget_s: float = 1200.0, confirm: int = 3,
           database: DirectoryBasedExampleDatabase | None = None, stack_key: str = "",
           progress: Callable[[SearchResult, Tally], None] | None = None,
           cost: Callable[[Sequence[DrawnStep]], float] = lambda steps: 0.0,
           clock: Callable[[], float] = time.monotonic, guided: bool = True) -> SearchResult:
    """Search the exploration's fault space for a schedule that breaks an invariant; shrink it.
    `cost(steps)`: how long a run of that schedule is expected to take, in seconds; no run starts
    that would end after the budget. `stack_key` names the stack in the example database: a failure
    kept for one stack (an asynchronous variation) is replayed first on that stack only. `guided`:
    steer toward the schedules whose runs scored highest (False: every schedule drawn at random)."""
    judge = _Judge(run, SearchResult(seed, [], confirm=confirm, guided=guided), confirm=confirm,
                   deadline=clock() + budget_s, cost=cost, clock=clock, progress=progress, guided=guided)
    key = f"drills-explore:{exploration.id}{':' + stack_key if stack_key else ''}".encode()
    # NoSuchExample: no schedule failed, which the result says; _SearchOver: the budget or the harness ended it
    with _hypothesis_for_drills(seed, budget_s, guided=guided), suppress(NoSuchExample, _SearchOver):
        find(schedules(exploration), judge.fails, settings=_settings(max_examples, database, key, guided=guided),
             database_key=key)
    if judge.stopped:
        raise judge.stopped[0]
    return judge.result


class _SearchOver(KeyboardInterrupt):
    """The search ends: no schedule fits in what is left of the budget, or the harness failed.
    Without it Hypothesis would go on drawing (up to max_examples) schedules never run: 7 of the
    8 minutes of a 40-search unit test. A KeyboardInterrupt because that is the one exception
    Hypothesis passes on without taking it for a failure to shrink or saving the schedule it was
    trying into the example database (any other BaseException is saved, and replayed first next
    time as if it had failed). `search` catches it: it never reaches the user."""


@dataclass
class _Judge:
    """What Hypothesis asks of a schedule: does it fail? Each schedule is judged once (`memo`), its
    runs confirmed (`_confirm`), within the budget; what it showed is kept in `result`."""

    run: Callable[[Sequence[DrawnStep]], ScheduleOutcome]
    result: SearchResult
    confirm: int
    deadline: float
    cost: Callable[[Sequence[DrawnStep]], float]
    clock: Callable[[], float]
    progress: Callable[[SearchResult, Tally], None] | None
    guided: bool = True
    memo: dict[tuple[DrawnStep, ...], Tally] = field(default_factory=dict)
    stopped: list[BaseException] = field(default_factory=list)  # the harness error that stopped the search

    def fails(self, steps: list[DrawnStep]) -> bool:
        if self.stopped:
            return False
        try:
            tally = self.judge(tuple(steps))
        except Exception as exc:  # the harness failed: stop, never let Hypothesis shrink on it
            self.stopped.append(exc)
            raise _SearchOver from exc
        if tally is None:
            return False
        # One label, every measure at once: Hypothesis climbs each label in turn, a few drills per
        # part of the schedule, so one measure that leads nowhere would spend the budget (with 3 of
        # 4 measures unrelated to the failure, a label each found it for 8 of 20 seeds, one label 16).
        # Each time Hypothesis asks, remembered schedules included: it keeps what it is told.
        if self.guided and tally.scores:
            target(trouble(tally.scores), label="trouble")
        return tally.failing

    def judge(self, key: tuple[DrawnStep, ...]) -> Tally | None:
        """The schedule's tally (run now, or remembered); None when no run of it fits the budget."""
        if key in self.memo:
            return self.memo[key]
        last_start = self.deadline - self.cost(key)  # a run starting later would end after the budget
        if self.clock() > last_start:
            self.result.budget_spent = True
            if self.clock() > self.deadline - self.cost(()):  # not even the shortest schedule would fit
                raise _SearchOver
            return None
        tally = Tally(key, "shrink" if self.result.minimal is not None else "generate")
        _confirm(tally, self.run, self.confirm, self.result, clock=self.clock, deadline=last_start)
        tally.failing = _accepted(tally, self.result.sought)
        self.memo[key] = tally
        self.result.examples.append(tally)
        if tally.failing:
            self._failed(tally)
        if self.progress is not None:
            self.progress(self.result, tally)
        return tally

    def _failed(self, tally: Tally) -> None:
        """A failing schedule: the first names the invariants sought (the safety ones it broke, if
        any: a liveness failure of a smaller schedule is not a smaller case of a lost write); a
        smaller one is the new minimum."""
        result = self.result
        if result.minimal is None:
            result.safety = bool(tally.safety_failures)
            result.sought = tally.safety_broken or tuple(sorted({name for r in tally.runs for name in r.failed}))
        else:
            result.shrink_steps += 1
        if result.minimal is None or smaller(tally.steps, result.minimal.steps):
            result.minimal = tally


def _settings(max_examples: int, database: DirectoryBasedExampleDatabase | None, key: bytes, *,
              guided: bool = True) -> settings:
    # No explain phase: it varies each part of the failing schedule to say which parts matter, and
    # every variation would be a drill on the stack.
    kept = Reshrinking(database, key) if database is not None else None
    phases = [Phase.explicit, Phase.reuse, Phase.generate, *([Phase.target] if guided else []), Phase.shrink]
    return settings(max_examples=max_examples, deadline=None, database=kept, derandomize=False,
                    suppress_health_check=list(HealthCheck), print_blob=False, phases=phases)


def _climb_now(runner: hypothesis_engine.ConjectureRunner) -> bool:
    """When Hypothesis climbs from its best scores (its target phase, mixed into generation): after
    `GUIDED_AFTER` schedules, then whenever a drawn one beat the best so far. Its own rule, with
    fewer than 1000 examples, climbs once at half of `max_examples`: a drill budget of 10-30
    schedules never gets there."""
    if not runner.should_optimise or not runner.best_observed_targets:
        return False
    last = runner._best_scores_at_last_pass
    if last is None:
        return runner.valid_test_cases >= GUIDED_AFTER
    return any(score > last.get(label, NO_SCORE) for label, score in runner.best_observed_targets.items())


@contextmanager
def _hypothesis_for_drills(seed: int, budget_s: float, *, guided: bool = True) -> Iterator[None]:
    """Hypothesis's globals set for one search, and put back after it."""
    # The seed goes where Hypothesis's own pytest plugin puts --hypothesis-seed: `find(random=...)`
    # and `@seed` switch the example database off, and replaying a known failure first is its point.
    before = hypothesis_core.global_force_seed
    hypothesis_core.global_force_seed = seed  # type: ignore[assignment]  # declared None, set to an int
    # Hypothesis gives up shrinking after 5 minutes of it, by its own wall clock; each candidate here
    # is a drill of a minute or more, so that would stop a shrink after a handful: the budget decides.
    shrink_limit = hypothesis_engine.MAX_SHRINKING_SECONDS
    hypothesis_engine.MAX_SHRINKING_SECONDS = max(shrink_limit, math.ceil(budget_s) + 3600)
    runner = hypothesis_engine.ConjectureRunner
    climb = runner._should_optimise_now
    if guided:
        runner._should_optimise_now = _climb_now  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        hypothesis_core.global_force_seed = before
        hypothesis_engine.MAX_SHRINKING_SECONDS = shrink_limit
        runner._should_optimise_now = climb  # type: ignore[method-assign]


class Reshrinking(ExampleDatabase):
    """The example database as the search shows it to Hypothesis. Hypothesis keeps each failure,
    shrunk, under its primary key, and when one of those still fails on replay it trusts it as
    already minimal and shrinks no further; here a shrink is often cut short by the budget, so
    the kept failures are shown as secondary ones: replayed first all the same, then shrunk on."""

    def __init__(self, inner: ExampleDatabase, primary: bytes) -> None:
        super().__init__()
        self.inner, self.primary, self.secondary = inner, primary, primary + b".secondary"

    def fetch(self, key: bytes) -> Iterable[bytes]:
        if key == self.primary:
            return []
        if key == self.secondary:
            return [*self.inner.fetch(self.primary), *self.inner.fetch(key)]
        return self.inner.fetch(key)

    def save(self, key: bytes, value: bytes) -> None:
        self.inner.save(key, value)

    def delete(self, key: bytes, value: bytes) -> None:
        self.inner.delete(key, value)

    def move(self, src: bytes, dest: bytes, value: bytes) -> None:
        self.inner.move(src, dest, value)


def _confirm(tally: Tally, run: Callable[[Sequence[DrawnStep]], ScheduleOutcome], confirm: int, result: SearchResult, *,
             clock: Callable[[], float], deadline: float) -> None:
    """Run the schedule, again until `_settled`, at most `confirm` judged runs, or until no other run
    would end within the budget (`deadline`: the last moment one may start; then the runs so far
    decide, and the tally shows how few they were). A run that ended in an ERROR judged nothing:
    it is run again, after at most two such the runs so far decide."""
    while True:
        tally.runs.append(run(tally.steps))
        result.runs += 1
        if _settled(tally, confirm, result):
            return
        if tally.judged >= confirm or len(tally.runs) - tally.judged >= 2:
            return
        if clock() > deadline:
            result.budget_spent = True
            return


def _settled(tally: Tally, confirm: int, result: SearchResult) -> bool:
    """Whether the runs so far decide the schedule.

    - It broke a safety invariant sought (any, before the first finding): shrinking, that decides
      it; the first finding is run all k times, for the rate a replay may expect.
    - Shrinking a safety finding: a candidate is run k times before it is said to hold.
    - Otherwise the majority rule: a schedule whose first run held is not re-run (a search runs
      as many schedules as it can); one that failed is re-run until most of k agree either way."""
    shrinking = result.minimal is not None
    judged = tally.judged
    if _safety_hits(tally, result.sought):
        return shrinking or judged >= confirm
    if shrinking and result.safety:
        return judged >= confirm
    need = confirm // 2 + 1
    failures = tally.failures
    return bool(judged) and (failures == 0 or failures >= need or judged - failures >= need)


def _safety_hits(tally: Tally, sought: tuple[str, ...]) -> int:
    """Runs that broke a safety invariant sought (any safety invariant while nothing is sought yet)."""
    wanted = set(sought)
    return sum(1 for r in tally.runs if r.safety and (not wanted or wanted & set(r.safety)))


def _accepted(tally: Tally, sought: tuple[str, ...]) -> bool:
    """Failing: a safety invariant sought broke in any run; or most judged runs failed, and (while
    shrinking) on an invariant the first failure broke. Sought safety invariants only hold in
    majority when they hold in one, so the second rule never accepts a liveness slip from them."""
    if _safety_hits(tally, sought):
        return True
    wanted = set(sought)
    hits = [r for r in tally.runs if r.failed and (not wanted or wanted & set(r.failed))]
    return len(hits) * 2 > tally.judged


def trouble(scores: dict[str, float]) -> float:
    """How close a schedule came to trouble, all measures at once: the sum of log(1 + each), so
    that a measure's unit (seconds, writes) scales it by a constant and no measure swamps the rest."""
    return sum(math.log1p(max(0.0, v)) for v in scores.values())


def smaller(a: Sequence[DrawnStep], b: Sequence[DrawnStep]) -> bool:
    """Fewer steps, then less held in all, then fewer overlapping, then the digest (any fixed order will do)."""
    def size(steps: Sequence[DrawnStep]) -> tuple[int, int, int, str]:
        return len(steps), sum(s.hold for s in steps), sum(s.overlaps_next for s in steps), schedule_digest(steps)

    return size(a) < size(b)
