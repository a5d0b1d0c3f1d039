"""CLI: `drill explore FILE`: schedules drawn from an exploration's fault space, each a drill on one
reused stack; a failing schedule shrunk and written as a scenario that `drill run` replays.
`drill explore FOLDER` runs each exploration in it in turn, sharing `--budget`: the nightly mode,
with `--database DIR` the example databases a CI job caches between nights (each failing schedule
kept there is replayed first by the next search on the same stack, and the output says how many).

Exit codes: 0 no invariant failed in any example (at least one example judged), 1 an invariant
failed (the smallest failing schedule is written as a scenario), 2 invalid input, 3 harness or
environment failure, no example judged, or NOT RUN (a role the fault space targets is not on the
stack; said before anything starts); stopped by a signal: every fault healed and the stack
taken down first, then 130 (Ctrl-C), 143 (SIGTERM), 129 (SIGHUP). What completed is reported in
every case (summary.json, report.md in the exploration's folder).
"""

from __future__ import annotations

import random
import secrets
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from drills.files.stack_file import stack_options
from drills.records.signing import sign_options

if TYPE_CHECKING:
    from drills.explore.runner import Exploring
    from drills.files.exploration import Exploration
    from drills.records.signing import Signer
    from drills.stack.definition import StackDefinition


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@stack_options
@click.option("--budget", default="20m", show_default=True,
              help="How long to explore (e.g. 20m, 90s); a folder's explorations share it, in turn.")
@click.option("--max-examples", type=click.IntRange(min=1), default=None,
              help="At most this many schedules per exploration [default: as many as the budget allows].")
@click.option("--seed", type=int, default=None, help="Hypothesis's seed (default: a new one, printed).")
@click.option("--unguided", is_flag=True,
              help="Draw every schedule at random, not steered by what the drills measured (to compare).")
@click.option("--reports", "reports_dir", default=Path("reports"), show_default=True,
              type=click.Path(path_type=Path, file_okay=False), help="Where the exploration's folder is made.")
@click.option("--database", "database", default=None, type=click.Path(path_type=Path, file_okay=False),
              help="The example databases' folder: each exploration's failing schedules, replayed first by the "
                   "next search on the same stack (a CI job caches it between nights) [default: the state "
                   "directory's].")
@sign_options
def explore(file: Path, *, stack_path: Path | None, overrides: tuple[Path, ...], budget: str,
            max_examples: int | None, seed: int | None, unguided: bool, reports_dir: Path,
            database: Path | None, sign_key: Path | None, signer_name: str | None) -> None:
    """Draw fault schedules from an exploration file's fault space, check its invariants on each,
    and write a failing schedule, shrunk, as a scenario that `drill run` replays. FILE may be a
    folder: each exploration in it runs in turn, sharing the budget (what one leaves unspent goes
    to the next), with one seed.

    \b
    Exit codes: 0 no invariant failed, 1 one failed (minimal scenario written), 2 invalid input,
    3 harness failure, nothing judged, or NOT RUN (the stack lacks a role the fault space
    targets); 130/143/129 stopped by a signal, after healing and taking the stack down. A folder:
    1 when any exploration found a failure, else 3 when any judged nothing, else 0.
    """
    from drills.core import interrupts
    from drills.explore.output import exit_code
    from drills.files.exploration import load_exploration
    from drills.files.stack_file import load_stack
    from drills.records.signing import signer_of
    from drills.spec.types import parse_duration

    try:
        budget_s = parse_duration(budget)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--budget") from None
    # Every file is checked before anything starts: a mistake in the last is not found hours in.
    explorations = [(path, load_exploration(path)) for path in exploration_files(file)]
    definition = load_stack(stack_path, overrides)
    signer = signer_of(sign_key, signer_name)
    if signer is not None:
        click.echo(f"signing every drill's manifest: {signer.algorithm} key {signer.fingerprint} ({signer.identity})")
    seed = seed if seed is not None else random.SystemRandom().randrange(2**32)
    codes: list[int] = []
    left_s = budget_s
    with interrupts.trapped():  # SIGTERM and SIGHUP unwind (heal, stack down) exactly like Ctrl-C
        for i, (path, exploration) in enumerate(explorations):
            share = left_s / (len(explorations) - i)
            if len(explorations) > 1:
                click.echo(f"== {i + 1} of {len(explorations)}: {path} (budget {share:g} s of {left_s:g} s left)")
            exploring = _explore_one(path, exploration, definition, seed=seed, budget_s=share,
                                     max_examples=max_examples, reports_dir=reports_dir, database=database,
                                     unguided=unguided, signer=signer)
            codes.append(exit_code(exploring))
            left_s = max(0.0, left_s - (exploring.search_s or 0.0))
    if len(explorations) > 1:
        ended = zip(explorations, codes, strict=True)
        click.echo("explored: " + "; ".join(f"{path.stem} exit {code}" for (path, _), code in ended), err=True)
    sys.exit(overall_code(codes))


def exploration_files(path: Path) -> list[Path]:
    """The file, or a folder's exploration files (its *.yaml with a `fault_space:`), in name order."""
    from drills.core.errors import ScenarioError
    from drills.files.exploration import looks_like_exploration_file
    from drills.files.scenario import expand_paths

    hint = "explorations/ has examples; `drill schema --exploration` prints the format"
    if path.is_dir():
        files = [p for p in expand_paths([path]) if looks_like_exploration_file(p)]
        if not files:
            raise ScenarioError(f"no exploration file in {path} (none of its *.yaml has `fault_space:`)", hint=hint)
        return files
    if not path.is_file():
        raise ScenarioError(f"no exploration file {path}", hint=hint)
    return [path]


def overall_code(codes: list[int]) -> int:
    """A folder's exit code: a failure found anywhere first, then anything not judged, else 0."""
    return 1 if 1 in codes else 3 if any(c != 0 for c in codes) else 0


def _explore_one(file: Path, exploration: Exploration, definition: StackDefinition, *, seed: int, budget_s: float,
                 max_examples: int | None, reports_dir: Path, database: Path | None,
                 unguided: bool, signer: Signer | None = None) -> Exploring:
    from drills.core import interrupts
    from drills.explore.database import database_root, kept_failures
    from drills.explore.output import exit_code
    from drills.explore.runner import Exploring, explore, stack_key
    from drills.explore.space import describe

    # A budget, not a count, is what bounds an exploration unless a count is given.
    examples = max_examples if max_examples is not None else 10_000
    folder = reports_dir / f"explore-{time.strftime('%Y%m%dT%H%M%S')}-{exploration.id}-{secrets.token_hex(3)}"
    folder.mkdir(parents=True, exist_ok=False)
    for line in describe(exploration):
        click.echo(line)
    click.echo(f"stack {definition.name}; budget {budget_s:g} s"
               + (f", at most {max_examples} example(s)" if max_examples else "") + f"; seed {seed}"
               + ("; unguided" if unguided else "") + "; "
               f"records in {folder}")
    root = database_root(database)
    kept = kept_failures(root, exploration.id, stack_key(definition))
    click.echo(f"example database {root / exploration.id}: " + (
        f"{kept} failing schedule(s) kept from earlier searches on this stack, replayed first" if kept else
        "no failing schedule kept for this stack yet"))
    exploring = Exploring(exploration, file, folder, seed=seed, budget_s=budget_s, max_examples=examples,
                          database=database, kept=kept, guided=not unguided, signer=signer)
    code: int | None = None
    try:
        explore(exploring, definition, say=lambda text: click.echo(text, err=True))
        code = exit_code(exploring)
    except BaseException as exc:
        exploring.stopped = interrupts.describe(exc) if isinstance(exc, KeyboardInterrupt) else \
            f"{type(exc).__name__}: {exc}"
        raise
    finally:
        with interrupts.shielded(raise_on_exit=False):  # what completed is written, whatever stopped it
            _report(exploring, code)
    return exploring


def _report(exploring: Exploring, code: int | None) -> None:
    from drills.explore.output import pacing_line, summary, write_minimal, write_report, write_summary

    try:
        minimal = write_minimal(exploring)
        data = summary(exploring, code=code, minimal=minimal)
        summary_file = write_summary(exploring, data)
        report_file = write_report(exploring, data)
    except Exception as exc:  # what stopped the exploration is what the user must see, not this
        click.echo(f"could not write the exploration's report: {exc}", err=True)
        return
    result = exploring.result
    tried = len(result.examples) if result else 0
    click.echo(f"seed {exploring.seed}: {tried} example(s), {result.runs if result else 0} drill(s), "
               f"{result.shrink_steps if result else 0} shrink step(s)", err=True)
    click.echo(pacing_line(data), err=True)
    _print_coverage(exploring)
    if minimal is not None:
        click.echo(f"failing schedule written: {minimal}  (replay: drill run {minimal})", err=True)
    elif code == 0:
        click.echo("no invariant failed in any example", err=True)
    elif exploring.not_run:
        click.echo(f"NOT RUN: {exploring.not_run}", err=True)
    elif code == 3 and not exploring.stopped:
        click.echo("no example was judged: every drill ended in an ERROR or none ran; see the report", err=True)
    click.echo(f"report: {report_file}; summary: {summary_file}", err=True)


def _print_coverage(exploring: Exploring) -> None:
    """What the schedules covered of the space and what they never drew: "no invariant failed" says
    nothing without it."""
    from rich.console import Console

    from drills.explore import coverage_view
    from drills.explore.output import coverage

    covered = coverage(exploring)
    console = Console(stderr=True)
    console.print(coverage_view.console_table(covered))
    for line in [coverage_view.figures(covered), *coverage_view.never_drawn(covered)]:
        click.echo(line, err=True)
