"""The search of `drill explore`, apart from what runs an example: Hypothesis draws schedules from
the fault space, `run(steps)` judges each (on the real stack: a drill), and a failing schedule is
shrunk, each smaller candidate judged the same way.

Real systems are not deterministic, and Hypothesis assumes they are. So here:

- a schedule is judged once: its verdict is remembered (`Tally`), and Hypothesis asking again
  (its final replay, a shrink pass trying the same schedule) costs no drill and gets the same answer;
- a schedule that fails is re-run before it is accepted as failing: it fails when most of its runs
  failed (`confirm` runs at most: with 3, 2 of 2 or 2 of 3), so a candidate that failed once, by
  chance, does not derail shrinking; such schedules are kept and reported as flaky;
- while shrinking, a candidate counts as failing only when an invariant that failed first fails
  again: a smaller schedule that breaks something else is another finding, not a smaller one;
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

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import core as hypothesis_core
from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase
from hypothesis.errors import NoSuchExample
from hypothesis.internal.conjecture import engine as hypothesis_engine

from drills.explore.schedule import schedule_digest
from drills.explore.strategy import DrawnStep, schedules
from drills.files.exploration import Exploration

JUDGED = ("passed", "failed")  # a drill's statuses that judged its invariants


@dataclass(frozen=True)
class ScheduleOutcome:
    """What one run of a schedule showed. `failed`: the invariants that failed (checker and
    subject, e.g. "lost-writes postgres.write"); `status`: the drill's (passed, failed, error,
    not-run); `run_id`: where its records are."""

    status: str
    failed: tuple[str, ...] = ()
    run_id: str = ""


@dataclass
class Tally:
    """Every run of one schedule, and what was concluded from them."""

    steps: tuple[DrawnStep, ...]
    phase: str  # generate | shrink
    runs: list[ScheduleOutcome] = field(default_factory=list)
    failing: bool = False  # accepted as failing (most runs failed, on the invariants sought)

    @property
    def failures(self) -> int:
        return sum(1 for r in self.runs if r.failed)

    @property
    def judged(self) -> int:
        """Runs that judged the invariants: a drill that ended in an ERROR (the stack not back at
        its baseline) says nothing of the schedule, neither held nor failed."""
        return sum(1 for r in self.runs if r.status in JUDGED)

    @property
    def flaky(self) -> bool:
        return 0 < self.failures < self.judged


@dataclass
class SearchResult:
    seed: int
    examples: list[Tally]  # every schedule run, in order
    minimal: Tally | None = None  # the smallest failing schedule found
    sought: tuple[str, ...] = ()  # the invariants the first failing schedule broke
    shrink_steps: int = 0  # smaller failing schedules accepted after the first
    budget_spent: bool = False  # the budget ran out: a failing schedule may not be minimal
    runs: int = 0  # drills run, re-runs included

    @property
    def flaky(self) -> list[Tally]:
        return [t for t in self.examples if t.flaky]


def database_at(folder: Path) -> DirectoryBasedExampleDatabase:
    """The example database of explorations (a folder of the state directory, in the runner)."""
    return DirectoryBasedExampleDatabase(str(folder))


def search(exploration: Exploration, run: Callable[[Sequence[DrawnStep]], ScheduleOutcome], *, seed: int,
           max_examples: int = 100, budget_s: float = 1200.0, confirm: int = 3,
           database: DirectoryBasedExampleDatabase | None = None, stack_key: str = "",
           progress: Callable[[SearchResult, Tally], None] | None = None,
           cost: Callable[[Sequence[DrawnStep]], float] = lambda steps: 0.0,
           clock: Callable[[], float] = time.monotonic) -> SearchResult:
    """Search the exploration's fault space for a schedule that breaks an invariant; shrink it.
    `cost(steps)`: how long a run of that schedule is expected to take, in seconds; no run starts
    that would end after the budget. `stack_key` names the stack in the example database: a failure
    kept for one stack (an asynchronous variation) is replayed first on that stack only."""
    judge = _Judge(run, SearchResult(seed, []), confirm=confirm, deadline=clock() + budget_s, cost=cost, clock=clock,
                   progress=progress)
    key = f"drills-explore:{exploration.id}{':' + stack_key if stack_key else ''}".encode()
    # NoSuchExample: no schedule failed, which the result says
    with _hypothesis_for_drills(seed, budget_s), suppress(NoSuchExample):
        find(schedules(exploration), judge.fails, settings=_settings(max_examples, database, key), database_key=key)
    if judge.stopped:
        raise judge.stopped[0]
    return judge.result


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
    memo: dict[tuple[DrawnStep, ...], Tally] = field(default_factory=dict)
    stopped: list[BaseException] = field(default_factory=list)  # the harness error that stopped the search

    def fails(self, steps: list[DrawnStep]) -> bool:
        if self.stopped:
            return False
        try:
            return self.judge(tuple(steps))
        except Exception as exc:  # the harness failed: stop, never let Hypothesis shrink on it
            self.stopped.append(exc)
            return False

    def judge(self, key: tuple[DrawnStep, ...]) -> bool:
        if key in self.memo:
            return self.memo[key].failing
        last_start = self.deadline - self.cost(key)  # a run starting later would end after the budget
        if self.clock() > last_start:
            self.result.budget_spent = True
            return False
        tally = Tally(key, "shrink" if self.result.minimal is not None else "generate")
        _confirm(tally, self.run, self.confirm, self.result, clock=self.clock, deadline=last_start)
        tally.failing = _accepted(tally, self.result.sought)
        self.memo[key] = tally
        self.result.examples.append(tally)
        if tally.failing:
            self._failed(tally)
        if self.progress is not None:
            self.progress(self.result, tally)
        return tally.failing

    def _failed(self, tally: Tally) -> None:
        """A failing schedule: the first names the invariants sought; a smaller one is the new minimum."""
        result = self.result
        if result.minimal is None:
            result.sought = tuple(sorted({name for r in tally.runs for name in r.failed}))
        else:
            result.shrink_steps += 1
        if result.minimal is None or smaller(tally.steps, result.minimal.steps):
            result.minimal = tally


def _settings(max_examples: int, database: DirectoryBasedExampleDatabase | None, key: bytes) -> settings:
    # No explain phase: it varies each part of the failing schedule to say which parts matter, and
    # every variation would be a drill on the stack.
    kept = Reshrinking(database, key) if database is not None else None
    return settings(max_examples=max_examples, deadline=None, database=kept, derandomize=False,
                    suppress_health_check=list(HealthCheck), print_blob=False,
                    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])


@contextmanager
def _hypothesis_for_drills(seed: int, budget_s: float) -> Iterator[None]:
    """Hypothesis's globals set for one search, and put back after it."""
    # The seed goes where Hypothesis's own pytest plugin puts --hypothesis-seed: `find(random=...)`
    # and `@seed` switch the example database off, and replaying a known failure first is its point.
    before = hypothesis_core.global_force_seed
    hypothesis_core.global_force_seed = seed  # type: ignore[assignment]  # declared None, set to an int
    # Hypothesis gives up shrinking after 5 minutes of it, by its own wall clock; each candidate here
    # is a drill of a minute or more, so that would stop a shrink after a handful: the budget decides.
    shrink_limit = hypothesis_engine.MAX_SHRINKING_SECONDS
    hypothesis_engine.MAX_SHRINKING_SECONDS = max(shrink_limit, math.ceil(budget_s) + 3600)
    try:
        yield
    finally:
        hypothesis_core.global_force_seed = before
        hypothesis_engine.MAX_SHRINKING_SECONDS = shrink_limit


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
    """Run the schedule; when it fails, again, until most of `confirm` judged runs agree either way,
    or no other run would end within the budget (`deadline`: the last moment one may start; then
    the runs so far decide, and the tally shows how few they were). A run that ended in an ERROR
    judged nothing: it is run again, after at most two such the runs so far decide. A
    schedule whose first run held is not re-run: a search runs as many schedules as it can."""
    need = confirm // 2 + 1
    while True:
        tally.runs.append(run(tally.steps))
        result.runs += 1
        failures, judged = tally.failures, tally.judged
        if judged and (failures == 0 or failures >= need or judged - failures >= need):
            return
        if judged >= confirm or len(tally.runs) - judged >= 2:
            return
        if clock() > deadline:
            result.budget_spent = True
            return


def _accepted(tally: Tally, sought: tuple[str, ...]) -> bool:
    """Failing: most judged runs failed, and (while shrinking) on an invariant the first failure broke."""
    wanted = set(sought)
    hits = [r for r in tally.runs if r.failed and (not wanted or wanted & set(r.failed))]
    return len(hits) * 2 > tally.judged


def smaller(a: Sequence[DrawnStep], b: Sequence[DrawnStep]) -> bool:
    """Fewer steps, then less held in all, then fewer overlapping, then the digest (any fixed order will do)."""
    def size(steps: Sequence[DrawnStep]) -> tuple[int, int, int, str]:
        return len(steps), sum(s.hold for s in steps), sum(s.overlaps_next for s in steps), schedule_digest(steps)

    return size(a) < size(b)
