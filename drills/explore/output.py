"""What `drill explore` leaves in its folder once it stops (done, interrupted or failed):

    minimal-<scenario id>.yaml   the smallest failing schedule, an ordinary scenario (`drill run` replays it)
    summary.json                 every example tried, each run's verdicts, the search's figures, the coverage
    report.md                    the same for a person: fault space, examples, coverage, the minimal scenario's timeline
    scenarios/, <run id>/        every example's scenario file and drill records (written while it ran)

A file already there is never overwritten. Exit codes (`exit_code`): 0 no invariant failed in any
run, 1 one failed (in a run that was confirmed or not), 3 no example was judged (nothing ran, or
every drill ended in an ERROR): an exploration that judged nothing never reports that nothing failed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from drills.explore import coverage_view
from drills.explore.coverage import Coverage, coverage_of
from drills.explore.runner import Exploring
from drills.explore.schedule import header_lines, scenario_of, scenario_yaml
from drills.explore.search import SearchResult, Tally, smaller
from drills.explore.space import describe


def exit_code(exploring: Exploring) -> int:
    result = exploring.result
    examples = result.examples if result is not None else []
    if any(t.failures for t in examples):
        return 1
    if not any(t.judged for t in examples):
        return 3
    return 0


def finding(exploring: Exploring) -> tuple[Tally, str] | None:
    """The schedule to write as a scenario, and what to say of it: the minimal failing schedule
    (or the smallest found, when the budget ran out while shrinking), with the rule it was
    accepted by and its rate; when no schedule failed (a liveness invariant in fewer than most of
    its runs), the smallest that failed in some (flaky, never called minimal)."""
    result = exploring.result
    if result is None:
        return None
    if result.minimal is not None:
        if result.budget_spent or exploring.stopped:
            note = ("The search stopped while shrinking: this is the smallest failing schedule found, not "
                    "necessarily the minimal one.")
        else:
            note = "The minimal failing schedule Hypothesis found (no smaller one failed the same way)."
        return result.minimal, f"{note} {_accepted_by(result)}"
    flaky = [t for t in result.examples if t.failures]
    if not flaky:
        return None
    smallest = flaky[0]
    for tally in flaky[1:]:
        if smaller(tally.steps, smallest.steps):
            smallest = tally
    return smallest, ("Flaky: a liveness invariant failed in fewer than most of this schedule's runs; it was not "
                      "shrunk and is not claimed minimal.")


def reproduced(exploring: Exploring, tally: Tally) -> tuple[int, int]:
    """How often the schedule failed, in its judged runs: on the invariants sought, for the finding
    of a search that sought some."""
    result = exploring.result
    sought = result.sought if result is not None and result.minimal is not None else ()
    return (tally.broke(sought) if sought else tally.failures), tally.judged


def _accepted_by(result: SearchResult) -> str:
    """The rule the finding was accepted by, its k, and the first failing schedule's rate."""
    first = next((t for t in result.examples if t.failing), None)
    rate = f"{first.broke(result.sought)} of {first.judged} run(s)" if first is not None else "?"
    if result.safety:
        return (f"A safety invariant ({', '.join(result.sought)}): one run's history proves it broke. The first "
                f"failing schedule broke it in {rate}; each smaller candidate was run up to k={result.confirm} "
                f"times and accepted when any run broke it.")
    return (f"Liveness invariant(s) ({', '.join(result.sought)}): accepted when most of at most k={result.confirm} "
            f"runs failed; the first failing schedule failed in {rate}.")


def write_minimal(exploring: Exploring) -> Path | None:
    """The finding as a scenario file; None when there is none. Never overwrites."""
    found = finding(exploring)
    if found is None:
        return None
    tally, note = found
    data = scenario_of(exploring.exploration, tally.steps)
    header = header_lines(exploring.file, exploring.exploration, seed=exploring.seed,
                          reproduced=reproduced(exploring, tally), note=note)
    path = exploring.folder / f"minimal-{data['id']}.yaml"
    with path.open("x") as out:
        out.write(scenario_yaml(data, header))
    return path


def coverage(exploring: Exploring) -> Coverage:
    """What the schedules some drill judged covered of the space (one that only ended in ERRORs covered nothing)."""
    result = exploring.result
    return coverage_of(exploring.exploration, [t.steps for t in (result.examples if result else []) if t.judged])


def summary(exploring: Exploring, *, code: int | None, minimal: Path | None) -> dict[str, Any]:
    result = exploring.result
    found = finding(exploring)
    return {
        "exploration": exploring.exploration.id, "file": str(exploring.file), "stack": exploring.stack,
        "project": exploring.project, "seed": exploring.seed, "budget_s": exploring.budget_s,
        "max_examples": exploring.max_examples, "stack_up_s": exploring.stack_up_s, "search_s": exploring.search_s,
        "stopped": exploring.stopped, "not_run": exploring.not_run, "left_out": exploring.left_out,
        "exit_code": code, "database": str(exploring.database) if exploring.database else None,
        "kept_failures_replayed_first": exploring.kept,
        "runs": result.runs if result else 0, "shrink_steps": result.shrink_steps if result else 0,
        "budget_spent": result.budget_spent if result else False,
        "sought": list(result.sought) if result else [],
        "confirm": result.confirm if result else None, "guided": result.guided if result else None,
        "safety": result.safety if result else False,
        "rule": result.rule if result and result.minimal is not None else "",
        "examples": [_example(exploring, i, t) for i, t in enumerate(result.examples if result else [], 1)],
        "minimal": None if found is None else {
            "file": str(minimal) if minimal else None, "schedule": [s.as_data() for s in found[0].steps],
            "reproduced": list(reproduced(exploring, found[0])), "note": found[1]},
        "coverage": coverage(exploring).as_data(),
        "pacing": pacing_tally(exploring),
        "examples_judged": judged_examples(exploring),
        "examples_per_minute": examples_per_minute(exploring),
    }


def pacing_tally(exploring: Exploring) -> dict[str, Any]:
    """Whether each drill's workload kept its configured rate in steady: held (every signal held),
    not held (any fell behind: the drill judged nothing), or not measured (no steady phase long
    enough, or a drill that judged nothing before it was measured)."""
    held = not_held = 0
    behind: list[str] = []
    for drill in exploring.drills.values():
        if any(p.held is False for p in drill.pacing):
            not_held += 1
            behind += [f"{drill.run_id}: {p.line()}" for p in drill.pacing if p.held is False]
        elif drill.pacing and all(p.held for p in drill.pacing):
            held += 1
    drills = len(exploring.drills)
    return {"drills": drills, "held": held, "not_held": not_held, "not_measured": drills - held - not_held,
            "not_held_lines": behind}


def judged_examples(exploring: Exploring) -> int:
    """Schedules at least one of whose drills judged the invariants."""
    return sum(1 for t in (exploring.result.examples if exploring.result else []) if t.judged)


def examples_per_minute(exploring: Exploring) -> float | None:
    """Examples judged per minute of search (the stack's boot and teardown not counted); None when
    the search's time is not known."""
    if not exploring.search_s:
        return None
    return round(judged_examples(exploring) / (exploring.search_s / 60), 2)


def pacing_line(data: dict[str, Any]) -> str:
    """One line: the pace the search reached, and whether its drills' workloads kept theirs."""
    paced = data["pacing"]
    rate = data["examples_per_minute"]
    text = (f"pacing held in {paced['held']} of {paced['drills']} drill(s)"
            + (f" (not held in {paced['not_held']}: run again, judged nothing)" if paced["not_held"] else "")
            + (f" (not measured in {paced['not_measured']})" if paced["not_measured"] else ""))
    return (f"{text}; examples per minute: " + ("not measured (the search's time is not known)" if rate is None
                                                else f"{rate:.1f} ({data['examples_judged']} judged)"))


def _example(exploring: Exploring, index: int, tally: Tally) -> dict[str, Any]:
    runs = []
    for outcome in tally.runs:
        drill = exploring.drills.get(outcome.run_id)
        runs.append({"run_id": outcome.run_id, "status": outcome.status, "failed": list(outcome.failed),
                     "reason": drill.reason if drill else "",
                     "verdicts": [{"checker": v.checker, "subject": v.subject, "status": v.status.value,
                                   "observed": v.observed} for v in (drill.verdicts if drill else [])]})
    return {"index": index, "phase": tally.phase, "schedule": [s.as_data() for s in tally.steps],
            "summary": "; ".join(map(str, tally.steps)), "failing": tally.failing, "flaky": tally.flaky,
            "rate": [tally.failures, tally.judged], "safety_broken": list(tally.safety_broken),
            "safety_rate": [tally.safety_failures, tally.judged], "scores": tally.scores, "runs": runs}


def write_summary(exploring: Exploring, data: dict[str, Any]) -> Path:
    path = exploring.folder / "summary.json"
    with path.open("x") as out:
        out.write(json.dumps(data, indent=2, default=str) + "\n")
    return path


def write_report(exploring: Exploring, data: dict[str, Any]) -> Path:
    path = exploring.folder / "report.md"
    with path.open("x") as out:
        out.write(report_markdown(exploring, data))
    return path


def report_markdown(exploring: Exploring, data: dict[str, Any]) -> str:
    lines = [f"# Exploration {exploring.exploration.id}", "", exploring.exploration.title, "",
             f"File `{exploring.file}`, stack {exploring.stack or '?'}, seed {exploring.seed}, budget "
             f"{exploring.budget_s:g} s, at most {exploring.max_examples} example(s); {len(data['examples'])} "
             f"schedule(s) tried in {data['runs']} drill(s), {data['shrink_steps']} shrink step(s)."]
    said = pacing_line(data)
    lines += ["", said[:1].upper() + said[1:] + "."]
    lines += [f"- {line}" for line in data["pacing"]["not_held_lines"]]
    if exploring.not_run:
        lines += ["", f"**NOT RUN:** {exploring.not_run}"]
    if exploring.left_out:
        lines += ["", "Left out of every example (NOT RUN): " + "; ".join(exploring.left_out)]
    if exploring.stopped:
        lines += ["", f"**Stopped before the search was done:** {exploring.stopped}"]
    if data["budget_spent"]:
        lines += ["", "The budget ran out: schedules the search would have tried next were not run."]
    lines += ["", f"{'Guided by what each drill measured toward a failure' if data['guided'] else 'Unguided'}; "
              f"a safety invariant broken in any of a schedule's runs makes it fail, a liveness one in most "
              f"(k = {data['confirm']} runs at most)."]
    lines += ["", "## Fault space", "", "```", *describe(exploring.exploration), "```", "", "## Examples", "",
              "| # | phase | schedule | runs | verdicts |", "|---|---|---|---|---|"]
    for ex in data["examples"]:
        verdicts = "<br>".join(_verdicts(run) for run in ex["runs"])
        statuses = ", ".join(f"{run['status']} ({run['run_id']})" for run in ex["runs"]) + _rate(ex)
        lines.append(f"| {ex['index']} | {ex['phase']} | {_cell(ex['summary'] or 'no fault')} | {_cell(statuses)} "
                     f"| {_cell(verdicts)} |")
    if not data["examples"]:
        lines.append("| | | no example ran | | |")
    lines += ["", "## Coverage", "", *coverage_view.markdown(coverage(exploring))]
    lines += ["", "## Finding", ""]
    minimal = data["minimal"]
    if minimal is None:
        lines.append("No invariant failed in any run." if data["examples"] else "Nothing was judged.")
    else:
        failed, runs = minimal["reproduced"]
        lines += [minimal["note"], "", f"It failed in {failed} of {runs} run(s) (k = {data['confirm']}). "
                  f"Scenario file: `{minimal['file']}` (replay with `drill run FILE` on the same stack).", ""]
        if minimal["file"]:
            lines += ["```yaml", Path(minimal["file"]).read_text().rstrip(), "```", ""]
        lines += _timeline(exploring, data)
    return "\n".join(lines) + "\n"


def _timeline(exploring: Exploring, data: dict[str, Any]) -> list[str]:
    """The phases and faults of the minimal schedule's last failing drill, from its journal."""
    schedule = data["minimal"]["schedule"]
    run_ids = [run["run_id"] for ex in data["examples"] if ex["schedule"] == schedule
               for run in ex["runs"] if run["failed"]]
    journal_file = exploring.folder / run_ids[-1] / "journal.json" if run_ids else None
    if journal_file is None or not journal_file.is_file():
        return ["No journal of a failing run of it was found: no timeline."]
    journal = json.loads(journal_file.read_text())
    lines = [f"### Timeline of run {run_ids[-1]}", "", "| phase | from (s) | to (s) | detail |", "|---|---|---|---|"]
    for phase in journal.get("phases", []):
        end = phase.get("end_s")
        lines.append(f"| {phase['name']} | {phase['start_s']:.1f} | {'' if end is None else f'{end:.1f}'} | "
                     f"{_cell(phase.get('detail', ''))} |")
    lines += ["", "Verdicts:", ""]
    lines += [f"- {v['checker']} {v['subject']}: **{v['status'].upper()}**: {v['observed']}"
              for v in journal.get("verdicts", [])]
    lines += ["", f"Full report with the timeline plot: `drill report {exploring.folder}`."]
    return lines


def _rate(example: dict[str, Any]) -> str:
    """How often a schedule failed; a safety invariant broken is said so, never called flaky."""
    failed, judged = example["rate"]
    if not failed:
        return ""
    if example["safety_broken"]:
        return f"; safety: {example['safety_rate'][0]} of {judged} run(s) broke {', '.join(example['safety_broken'])}"
    return f"; failed in {failed} of {judged}" + (" (flaky)" if example["flaky"] else "")


def _verdicts(run: dict[str, Any]) -> str:
    if not run["verdicts"]:
        return str(run["reason"] or run["status"])
    return ", ".join(f"{v['checker']} {v['subject']} {v['status'].upper()}" for v in run["verdicts"])


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
