"""What `drill explore` makes of its drills, without Docker: a drill's result as the search's outcome
(only a FAIL fails), the exit code (nothing judged is never "no invariant failed"), and what it
writes: the minimal failing schedule as a scenario `drill run` accepts (never over an existing
file, flaky ones said to be), the JSON summary and the report page listing every example."""

from __future__ import annotations

import json
import re
import signal
from collections.abc import Sequence
from pathlib import Path

import pytest

from drills.checkers.verdict import Status, Verdict
from drills.core.interrupts import Interrupted
from drills.explore.output import exit_code, summary, write_minimal, write_report, write_summary
from drills.explore.runner import Exploring, outcome_of, progress_line, progress_of
from drills.explore.search import ScheduleOutcome, search
from drills.explore.strategy import DrawnStep
from drills.files.exploration import load_exploration
from drills.files.scenario import load_scenario
from drills.records.journal import Journal, PhaseRecord
from drills.records.result import RunResult
from drills.workload.pacing import Pacing

ROOT = Path(__file__).resolve().parents[2]
FILE = ROOT / "explorations" / "postgres-failover.yaml"
EXPLORATION = load_exploration(FILE)
LOST = "lost-writes postgres.write"


def verdict(checker: str, subject: str, status: Status) -> Verdict:
    return Verdict(checker, subject, "documented", f"{status.value} observed", status)


def test_only_a_fail_verdict_of_a_failed_drill_fails_an_invariant():
    verdicts = [verdict("lost-writes", "postgres.write", Status.FAIL), verdict("split-brain", "postgres", Status.PASS),
                verdict("back-after-heal", "postgres.write", Status.NOT_MEASURED)]
    # lost-writes is a safety invariant (`Checker.invariant`): the search takes one run breaking it as a finding
    assert outcome_of(RunResult("r1", "s", "failed", verdicts)) == ScheduleOutcome("failed", (LOST,), "r1",
                                                                                   safety=(LOST,))
    unmeasured = [verdict("lost-writes", "postgres.write", Status.NOT_MEASURED)]
    assert outcome_of(RunResult("r2", "s", "failed", unmeasured)) == ScheduleOutcome("failed", (), "r2")
    # A drill that ended in an ERROR judged nothing: whatever verdicts it carries, it fails nothing.
    errored = RunResult("r3", "s", "error", verdicts[:1], reason="warm-up")
    assert outcome_of(errored) == ScheduleOutcome("error", (), "r3")
    assert outcome_of(RunResult("r4", "s", "passed", verdicts[1:2])) == ScheduleOutcome("passed", (), "r4")


def test_a_drill_whose_clients_fell_behind_judged_no_liveness_but_its_safety_breach_stands():
    late = [verdict("back-after-heal", "postgres.write", Status.FAIL)]
    assert outcome_of(RunResult("r1", "s", "failed", late, pacing=[BEHIND])) == ScheduleOutcome("unpaced", (), "r1")
    assert outcome_of(RunResult("r2", "s", "passed", [], pacing=[KEPT, BEHIND])).status == "unpaced"
    # Lost acknowledged writes are proven by the history whatever the clients' pace: only they stand.
    lost = [verdict("lost-writes", "postgres.write", Status.FAIL), *late]
    assert outcome_of(RunResult("r4", "s", "failed", lost, pacing=[BEHIND])) == ScheduleOutcome(
        "failed", (LOST,), "r4", safety=(LOST,))
    # Pacing not measured (a steady phase too short) is no reason to throw a drill away.
    unmeasured = Pacing("postgres.write", 50, 1, "not-measured", 0.5, 0.6, why="too short")
    assert outcome_of(RunResult("r3", "s", "failed", lost[:1], pacing=[unmeasured])).failed == (LOST,)


def test_an_unpaced_drill_is_run_again_at_most_twice_and_the_summary_says_how_the_pacing_held(tmp_path):
    exploring = explored(tmp_path, statuses=["unpaced", "unpaced", "unpaced", "passed"], n=3)
    exploring.search_s = 90.0
    result = exploring.result
    assert result is not None
    # Like an ERROR: the first schedule was run again once after judging nothing, then left; the
    # second was judged on its second run.
    assert [[r.status for r in t.runs] for t in result.examples] == [["unpaced", "unpaced"], ["unpaced", "passed"],
                                                                     ["passed"]]
    assert [t.judged for t in result.examples] == [0, 1, 1]
    data = summary(exploring, code=exit_code(exploring), minimal=None)
    assert data["pacing"] == {"drills": 5, "held": 2, "not_held": 3, "not_measured": 0,
                              "not_held_lines": [f"run-00{i}: {BEHIND.line()}" for i in (1, 2, 3)]}
    assert data["examples_judged"] == 2 and data["examples_per_minute"] == 1.33  # 2 in 1.5 min
    page = write_report(exploring, data).read_text()
    assert "Pacing held in 2 of 5 drill(s) (not held in 3: run again, judged nothing); examples per minute: 1.3" \
        in page
    assert "pacing NOT held: postgres.write started 31.3 ops/s of 50 in steady" in page
    line = progress_line(result, result.examples[0], 10.0)
    assert ": PACING NOT HELD (0 of 0 judged runs failed; 2 with pacing not held)" in line


KEPT = Pacing("postgres.write", 50, 1, "held", 0.5, 3.5, started=150, owed=150)
BEHIND = Pacing("postgres.write", 50, 1, "not-held", 0.5, 3.5, started=94, owed=150, lag_skips=56)


class Stand:
    """`run(steps)` as the runner's: a drill's records (a journal, by the real writer) in the
    exploration's folder, and its result; `breaks` says which schedules break `checker` (by default
    lose writes, a safety invariant; back-after-heal is a liveness one), `statuses` forces the
    status of the next drills (an ERROR; "unpaced": a drill that passed while its clients fell
    behind their rate). Every other drill that judged kept its pace."""

    def __init__(self, exploring: Exploring, breaks=lambda steps: False, statuses: Sequence[str] = (),
                 checker: str = "lost-writes") -> None:
        self.exploring, self.breaks, self.statuses, self.checker = exploring, breaks, list(statuses), checker

    def __call__(self, steps: Sequence[DrawnStep]) -> ScheduleOutcome:
        n = len(self.exploring.drills) + 1
        run_id = f"run-{n:03d}"
        status = self.statuses.pop(0) if self.statuses else "failed" if self.breaks(steps) else "passed"
        paced = [] if status == "error" else [BEHIND if status == "unpaced" else KEPT]
        status = "passed" if status == "unpaced" else status
        verdicts = [] if status == "error" else [
            verdict(self.checker, "postgres.write", Status.FAIL if status == "failed" else Status.PASS)]
        out = self.exploring.folder / run_id
        out.mkdir(parents=True)
        journal = Journal(run_id, {}, "x.yaml", status=status, verdicts=[v.to_json() for v in verdicts],
                          phases=[PhaseRecord("steady", 0.5, 3.5, "ok", "3 s"),
                                  PhaseRecord("inject", 3.5, 3.9, "ok", f"{steps[0].kind} {steps[0].target}")])
        journal.write(out / "journal.json")
        result = RunResult(run_id, "s", status, verdicts, out, "the stack did not serve" if status == "error" else "",
                           pacing=paced)
        self.exploring.drills[run_id] = result
        return outcome_of(result)


def explored(tmp_path: Path, **kw) -> Exploring:
    exploring = Exploring(EXPLORATION, FILE, tmp_path / "explore", seed=5, budget_s=600, max_examples=kw.pop("n", 30))
    exploring.folder.mkdir(parents=True)
    exploring.result = search(EXPLORATION, Stand(exploring, **kw), seed=5, max_examples=exploring.max_examples)
    return exploring


def long_kill(steps: Sequence[DrawnStep]) -> bool:
    return any(s.kind == "kill" and s.hold >= 4 for s in steps)


def test_a_failing_exploration_writes_its_minimal_schedule_as_a_scenario_drill_run_accepts(tmp_path):
    exploring = explored(tmp_path, breaks=long_kill)
    assert exit_code(exploring) == 1
    path = write_minimal(exploring)
    assert path is not None and path.parent == exploring.folder
    scenario = load_scenario(path)  # what `drill run` and `drill validate` read
    assert [(s.fault, s.hold) for s in scenario.steps] == [("kill", 4.0)]
    text = path.read_text()
    assert "seed 5" in text and "The minimal failing schedule" in text
    # lost-writes is a safety invariant: the first failing schedule ran k times for its rate, the
    # smaller candidate that broke it on its first run was accepted there
    assert "an invariant failed in 1 of 1" in text and "A safety invariant (lost-writes postgres.write)" in text
    assert "broke it in 3 of 3 run(s)" in text and "run up to k=3 times" in text
    with pytest.raises(FileExistsError):  # never over a file already there
        write_minimal(exploring)


def test_a_liveness_failure_seen_in_too_few_runs_is_still_exit_1_and_written_as_flaky(tmp_path):
    statuses = ["passed"] * 3 + ["failed", "passed", "passed"]  # the 4th schedule fails once in 3 runs
    exploring = explored(tmp_path, statuses=statuses, n=6, checker="back-after-heal")
    assert exploring.result is not None and exploring.result.minimal is None
    assert exit_code(exploring) == 1
    path = write_minimal(exploring)
    assert path is not None and "Flaky" in path.read_text() and "failed in 1 of 3" in path.read_text()


def test_a_safety_failure_seen_once_in_three_runs_is_a_finding_with_its_rate_never_flaky(tmp_path):
    statuses = ["passed"] * 3 + ["failed", "passed", "passed"]  # the 4th schedule loses writes once in 3 runs
    exploring = explored(tmp_path, statuses=statuses, n=6)
    result = exploring.result
    assert result is not None and result.minimal is not None and result.safety and not result.flaky
    fourth = result.examples[3]
    assert fourth.failing and (fourth.safety_failures, fourth.judged) == (1, 3)
    data = summary(exploring, code=exit_code(exploring), minimal=write_minimal(exploring))
    assert data["safety"] and data["confirm"] == 3 and "any of its runs" in data["rule"]
    example = data["examples"][3]
    assert example["safety_rate"] == [1, 3] and example["safety_broken"] == [LOST] and not example["flaky"]
    page = write_report(exploring, data).read_text()
    assert f"safety: 1 of 3 run(s) broke {LOST}" in page and "flaky" not in page.lower()
    assert "broke it in 1 of 3 run(s)" in data["minimal"]["note"]


def test_exit_0_needs_an_example_judged(tmp_path):
    assert exit_code(explored(tmp_path / "a", n=3)) == 0
    every_error = explored(tmp_path / "b", statuses=["error"] * 6, n=3)
    assert every_error.result is not None and len(every_error.result.examples) == 3
    # An ERROR judged nothing: each schedule is run again once, then left (neither held nor failed).
    assert [len(t.runs) for t in every_error.result.examples] == [2, 2, 2]
    assert exit_code(every_error) == 3
    nothing = Exploring(EXPLORATION, FILE, tmp_path, seed=1, budget_s=1, max_examples=1)
    assert exit_code(nothing) == 3 and write_minimal(nothing) is None


def test_the_summary_and_the_report_list_every_example_with_its_verdicts(tmp_path):
    exploring = explored(tmp_path, breaks=long_kill, statuses=["error"])
    minimal = write_minimal(exploring)
    data = summary(exploring, code=exit_code(exploring), minimal=minimal)
    write_summary(exploring, data)
    page = write_report(exploring, data).read_text()
    written = json.loads((exploring.folder / "summary.json").read_text())
    assert exploring.result is not None
    rows = re.findall(r"^\| \d+ \| (?:generate|shrink) \|", page, re.M)
    assert len(written["examples"]) == len(exploring.result.examples) == len(rows)
    assert written["examples"][0]["runs"][0]["reason"] == "the stack did not serve"
    assert written["minimal"]["reproduced"] == [1, 1] and written["exit_code"] == 1  # a safety candidate: 1 of k
    assert written["seed"] == 5 and written["runs"] == len(exploring.drills)
    first_fail = next(ex for ex in written["examples"] if ex["runs"][0]["failed"])
    assert first_fail["runs"][0]["verdicts"] == [{"checker": "lost-writes", "subject": "postgres.write",
                                                  "status": "fail", "observed": "fail observed"}]
    assert "## Fault space" in page and "kill on postgres.leader" in page
    assert "lost-writes postgres.write FAIL" in page and "lost-writes postgres.write PASS" in page
    assert "### Timeline of run" in page and "| inject | 3.5 | 3.9 | kill" in page
    assert minimal is not None and minimal.read_text().rstrip() in page
    with pytest.raises(FileExistsError):
        write_summary(exploring, data)


def test_a_progress_line_says_where_the_search_stands():
    exploring = Exploring(EXPLORATION, FILE, Path("x"), seed=1, budget_s=600, max_examples=1)
    result = search(EXPLORATION,
                    lambda steps: ScheduleOutcome("failed", (LOST,)) if long_kill(steps) else ScheduleOutcome("passed"),
                    seed=3, max_examples=20)
    line = progress_line(result, result.examples[-1], 75.0)
    assert f"examples {len(result.examples)}" in line and f"shrink steps {result.shrink_steps}" in line
    assert "time left 1m15s" in line and exploring.time_left() == 600
    unmeasured = search(EXPLORATION, lambda steps: ScheduleOutcome("failed"), seed=3, max_examples=1)
    line = progress_line(unmeasured, unmeasured.examples[0], 10.0)
    assert ": NOT MEASURED |" in line and "failing 0" in line  # the drill failed, no invariant did


def test_an_interrupted_search_leaves_what_completed_to_report(tmp_path):
    exploring = Exploring(EXPLORATION, FILE, tmp_path, seed=9, budget_s=600, max_examples=20)
    stand, said = Stand(exploring), []

    def run(steps: Sequence[DrawnStep]) -> ScheduleOutcome:
        if len(exploring.drills) == 2:
            raise Interrupted(signal.SIGTERM)  # as `interrupts.trapped()` raises it in the main thread
        return stand(steps)

    with pytest.raises(Interrupted):
        search(EXPLORATION, run, seed=9, max_examples=20, progress=progress_of(exploring, said.append))
    assert exploring.result is not None and len(exploring.result.examples) == 2 and len(said) == 2
    exploring.stopped = "interrupted by SIGTERM"
    data = summary(exploring, code=None, minimal=write_minimal(exploring))
    assert [len(ex["runs"]) for ex in data["examples"]] == [1, 1] and data["exit_code"] is None
    assert "**Stopped before the search was done:** interrupted by SIGTERM" in write_report(exploring, data).read_text()


SMALL = """\
id: explore-smoke
title: one short kill of a replica
workload:
  postgres.write: {rate: 20}
steady: 2s
fault_space:
  faults:
    - kind: kill
      targets: [postgres.replica]
  hold: {min: 2s, max: 3s}
  steps: {min: 1, max: 1}
recovery: {timeout: 90s, conditions: [postgres]}
after: 2s
invariants:
  - checker: lost-writes
    signal: postgres.write
    max_lost: 0
    why: a killed replica takes no acknowledged write with it
"""


@pytest.mark.parametrize("seed", range(8))
def test_two_examples_of_the_integration_tests_space_are_two_different_schedules(tmp_path, seed):
    """tests/integration/test_explore.py counts 2 examples of --max-examples 2 on this space."""
    path = tmp_path / "small.yaml"
    path.write_text(SMALL)
    result = search(load_exploration(path), lambda steps: ScheduleOutcome("passed"), seed=seed, max_examples=2)
    assert len({t.steps for t in result.examples}) == len(result.examples) == 2


def test_a_drill_is_expected_to_take_its_schedule_and_the_90th_percentile_of_what_drills_took_beyond(tmp_path):
    from drills.explore.runner import Examples

    exploring = Exploring(EXPLORATION, FILE, tmp_path, seed=1, budget_s=600, max_examples=5)
    examples = Examples(exploring, session=None, say=print)  # type: ignore[arg-type]
    steps = [DrawnStep("kill", "postgres.leader", 5)]
    scheduled = EXPLORATION.steady + 5 + EXPLORATION.after
    assert examples.cost(steps) == scheduled  # nothing measured yet
    for i, beyond in enumerate([2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 30.0]):
        exploring.drills[f"r{i}"] = RunResult(f"r{i}", "s", "passed", wall_s=20.0 + beyond, scheduled_s=20.0)
    assert examples.cost(steps) == scheduled + 10.0  # the 9th of 10, not the median (6.0) nor the outlier
