"""What runs the examples of `drill explore`: one stack, brought up once and reused; each drawn
schedule an ordinary scenario run as a drill on it, from its verified baseline; the search
(`drills.explore.search`) deciding what runs next.

    exploring = Exploring(exploration, file, folder, seed=..., budget_s=..., max_examples=...)
    explore(exploring, definition, say=print)          runs until the search is done

`exploring` is filled in as the search goes (every schedule tried, every drill's result), so that
what completed is there to report when a signal or a harness error stops it halfway. The stack is
taken down whatever happens; every fault is healed by the drill that applied it.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from drills.checkers.protocol import number
from drills.checkers.registry import is_safety, trouble_of
from drills.checkers.verdict import Status, Verdict
from drills.explore.schedule import header_lines, scenario_of, scenario_yaml
from drills.explore.search import JUDGED, UNPACED, ScheduleOutcome, SearchResult, Tally, database_at, search
from drills.explore.strategy import DrawnStep
from drills.files.exploration import Exploration
from drills.records.result import RunResult

if TYPE_CHECKING:
    from drills.core.history import History
    from drills.records.signing import Signer
    from drills.run.session import Session
    from drills.stack.definition import StackDefinition
    from drills.stack.project import ComposeProject

Say = Callable[[str], None]


def outcome_of(result: RunResult) -> ScheduleOutcome:
    """What the search needs of a drill: its status, the invariants that failed ("checker
    subject"), which of those are safety ones (`Checker.invariant`), and how close it came to
    trouble (`scores`). Only a FAIL fails: an invariant NOT MEASURED did not hold nor fail, and a
    drill that ended in an ERROR judged nothing (the search counts neither as a failure, nor
    steers by it). Nor did a drill whose workload fell behind its configured rate in steady
    (`UNPACED`): its outages are the starved clients' as much as the stack's, so it is run again,
    as an ERROR is; but a safety invariant it broke (lost acknowledged writes, two leaders) stands,
    since the history proves it whatever the pace."""
    if result.status not in JUDGED:
        return ScheduleOutcome(result.status, (), result.run_id)
    broken = [v for v in result.verdicts if v.status is Status.FAIL] if result.status == "failed" else []
    if any(p.held is False for p in result.pacing):
        # A safety invariant broken is proven by the history whatever the clients' pace (an
        # acknowledged write missing from the final read is missing): it stands, and only it.
        safety = tuple(f"{v.checker} {v.subject}" for v in broken if is_safety(v.checker))
        if safety:
            return ScheduleOutcome("failed", safety, result.run_id, safety=safety)
        return ScheduleOutcome(UNPACED, (), result.run_id)
    return ScheduleOutcome(result.status, tuple(f"{v.checker} {v.subject}" for v in broken), result.run_id,
                           safety=tuple(f"{v.checker} {v.subject}" for v in broken if is_safety(v.checker)),
                           scores=scores_of(result.verdicts))


def scores_of(verdicts: Sequence[Verdict]) -> dict[str, float]:
    """What each checker measured toward breaking its invariant (`Checker.trouble`), labelled
    "checker subject key": a NOT MEASURED verdict's numbers count too (a resync watched too short
    still took that long); an ERROR's are not there."""
    scores: dict[str, float] = {}
    for v in verdicts:
        for key in trouble_of(v.checker):
            value = number(v.measured.get(key))
            if value is not None and math.isfinite(value):
                scores[f"{v.checker} {v.subject} {key}"] = value
    return scores


@dataclass
class Exploring:
    """One `drill explore`: what it was asked, and what it has done so far."""

    exploration: Exploration
    file: Path
    folder: Path  # this exploration's own folder: every drill's records, the report, the minimal scenario
    seed: int
    budget_s: float
    max_examples: int
    stack: str = ""  # the stack file's name
    project: str = ""  # the Compose project the examples ran on
    result: SearchResult | None = None  # the search as it stands (updated after every schedule)
    drills: dict[str, RunResult] = field(default_factory=dict)  # every drill's result, by run id
    started: float = field(default_factory=time.monotonic)
    stack_up_s: float | None = None
    search_started: float | None = None
    search_s: float | None = None  # how long the search ran (stack up and down not counted)
    stopped: str = ""  # why it stopped before the search was done: an interruption, a harness error
    not_run: str = ""  # why no example could run on this stack (a role of the fault space it lacks)
    left_out: list[str] = field(default_factory=list)  # invariants left out: their signal's role is not on the stack
    guided: bool = True  # the search steered by what the drills measured (False: `--unguided`)
    database: Path | None = None  # the example databases' folder (--database); None: the state directory's
    kept: int = 0  # failing schedules the database kept from earlier searches: replayed first
    signer: Signer | None = None  # signs every drill's manifest (--sign-key)

    def time_left(self, now: float | None = None) -> float:
        if self.search_started is None:
            return self.budget_s
        return max(0.0, self.budget_s - ((now if now is not None else time.monotonic()) - self.search_started))


class PhaseLines:
    """A drill's phases, one short line each (`drills.run.session.DrillProgress`)."""

    def __init__(self, label: str, say: Say) -> None:
        self.label, self.say = label, say

    def phase(self, name: str, detail: str = "") -> None:
        self.say(f"    {self.label} {name} {detail}".rstrip())

    def watch(self, history: History) -> None:
        """Nothing more than the phases is shown."""

    def close(self) -> None:
        """Nothing to stop."""


class Examples:
    """`run(steps)` of the search: the schedule as a scenario, a drill of it in the session."""

    def __init__(self, exploring: Exploring, session: Session, say: Say) -> None:
        self.exploring, self.session, self.say = exploring, session, say
        (exploring.folder / "scenarios").mkdir(parents=True, exist_ok=True)

    def __call__(self, steps: Sequence[DrawnStep]) -> ScheduleOutcome:
        from drills.files.scenario import Scenario

        exploring = self.exploring
        data = scenario_of(exploring.exploration, steps)
        scenario = Scenario.model_validate(data)
        path = exploring.folder / "scenarios" / f"{scenario.id}.yaml"
        # What the scenario file holds, replayed on the same stack by `drill run`, leaves out the same.
        fitted = self.session.fit_example(scenario, path)
        if not path.exists():  # the same schedule is the same scenario: written once
            path.write_text(scenario_yaml(data, header_lines(exploring.file, exploring.exploration,
                                                             seed=exploring.seed)))
        result = self.session.run(fitted, record=self._record, progress=partial(self._starting, steps, scenario.id))
        return outcome_of(result)

    def _record(self, result: RunResult) -> None:
        self.exploring.drills[result.run_id] = result

    def _starting(self, steps: Sequence[DrawnStep], label: str) -> PhaseLines:
        self.say(f"  running {'; '.join(map(str, steps))}")
        return PhaseLines(label, self.say)

    def cost(self, steps: Sequence[DrawnStep]) -> float:
        """How long a drill of `steps` is expected to take: its schedule (steady, holds, after), and
        the 90th percentile (nearest rank) of what the drills so far took beyond theirs (warm-up,
        heals, recovery, checks). The median overran a 20-minute budget by 8-10 s: a budget is a
        bound a CI job's timeout may rely on, so the estimate errs long."""
        exploration = self.exploring.exploration
        scheduled = exploration.steady + sum(step.hold for step in steps) + exploration.after
        beyond = sorted(r.wall_s - r.scheduled_s for r in self.exploring.drills.values() if r.wall_s and r.scheduled_s)
        return scheduled + (beyond[math.ceil(0.9 * len(beyond)) - 1] if beyond else 0.0)


def explore(exploring: Exploring, definition: StackDefinition, *, say: Say) -> SearchResult:
    """Bring the stack up, search, take the stack down (also when stopped by a signal or an error).
    Raises what stopped it; `exploring` then holds what completed."""
    from drills.explore.database import database_root
    from drills.run.session import Session

    with Session(reports_dir=exploring.folder, definition=definition, say=say, warn=say, tell_down=True,
                 signer=exploring.signer) as session:
        stack = session.open()
        exploring.stack, exploring.project = definition.name, stack.project
        exploring.not_run, exploring.left_out = fit_of_space(exploring.exploration, stack, session.defined)
        if exploring.not_run:
            say(f"NOT RUN: {exploring.not_run}")
            exploring.result = SearchResult(exploring.seed, [])
            return exploring.result
        for line in exploring.left_out:
            say(f"left out: {line}")
        try:
            session.up()
            exploring.stack_up_s = session.stack_up_s
            say(f"stack up in {exploring.stack_up_s:g} s; exploring for {exploring.budget_s:g} s")
            exploring.search_started = time.monotonic()
            database = database_at(database_root(exploring.database) / exploring.exploration.id)
            examples = Examples(exploring, session, say)
            result = search(exploring.exploration, examples, seed=exploring.seed,
                            max_examples=exploring.max_examples, budget_s=exploring.budget_s, database=database,
                            progress=progress_of(exploring, say), cost=examples.cost,
                            stack_key=stack_key(definition), guided=exploring.guided)
            exploring.result = result
            return result
        finally:  # the search's own time: the stack's boot and teardown not counted
            if exploring.search_started is not None:
                exploring.search_s = round(time.monotonic() - exploring.search_started, 1)


def stack_key(definition: StackDefinition) -> str:
    """The stack as the example database knows it: its name and what its files hold (the stack
    file, its Compose files, the overrides), so an override that changes the stack changes the key."""
    digest = hashlib.sha256()
    for path in (definition.path, *definition.compose_files()):
        digest.update(str(path.name).encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"(absent)")
    return f"{definition.name}:{digest.hexdigest()[:12]}"


def fit_of_space(exploration: Exploration, stack: ComposeProject, defined: Sequence[str]) -> tuple[str, list[str]]:
    """Whether the fault space can be explored on `stack`, asked before it starts
    (`drills.run.session.fit_space`): why not, or "", and the invariants left out of every example."""
    from drills.explore.space import witness_steps
    from drills.files.scenario import Scenario
    from drills.run.session import fit_space

    # One drawable step for each target and value (not every combination: a long `from` by many
    # targets is thousands of steps): the roles a schedule may name are all in them.
    probe = Scenario.model_validate(scenario_of(exploration, witness_steps(exploration)))
    return fit_space(probe, str(exploration.id), stack, defined)


def progress_of(exploring: Exploring, say: Say) -> Callable[[SearchResult, Tally], None]:
    """The search's progress callback: `exploring` keeps the search as it stands (what completed,
    should a signal stop it), and a line is said after each schedule."""

    def progress(result: SearchResult, tally: Tally) -> None:
        exploring.result = result
        say(progress_line(result, tally, exploring.time_left()))

    return progress


def progress_line(result: SearchResult, tally: Tally, time_left_s: float) -> str:
    """One line after each schedule: its verdict, and where the search stands."""
    failures = sum(1 for t in result.examples if t.failures)
    safety = set(tally.safety_broken)
    verdict = "FAILED " + ", ".join(n + (" (safety)" if n in safety else "")
                                    for n in sorted({n for r in tally.runs for n in r.failed})) if tally.failures else \
        "/".join(sorted({_shown_status(r) for r in tally.runs}))
    unpaced = sum(1 for r in tally.runs if r.status == UNPACED)
    errors = len(tally.runs) - tally.judged - unpaced
    runs = (f" ({tally.failures} of {tally.judged} judged runs failed" + (f"; {errors} ERROR" if errors else "")
            + (f"; {unpaced} with pacing not held" if unpaced else "") + ")"
            if len(tally.runs) > 1 else "")
    called = " - a finding" if tally.failing else " - flaky" if tally.flaky else ""
    schedule = "; ".join(map(str, tally.steps)) or "no fault"
    return (f"[{tally.phase} {len(result.examples)}] {schedule}: {verdict}{runs}{called} | examples "
            f"{len(result.examples)}, failing {failures}, shrink steps {result.shrink_steps}, drills {result.runs} "
            f"(k={result.confirm}), time left {_minutes(time_left_s)}")


def _shown_status(outcome: ScheduleOutcome) -> str:
    """A drill that failed without an invariant failing measured too little to judge one."""
    if outcome.status == UNPACED:
        return "PACING NOT HELD"
    return "NOT MEASURED" if outcome.status == "failed" and not outcome.failed else outcome.status.upper()


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"
