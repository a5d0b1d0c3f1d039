"""CLI: `drill run FILES… | --suite NAME`.

Exit codes: 0 every expectation met (NOT RUN scenarios excepted), 1 some expectation not met or
not measured, 2 invalid input, 3 the harness or the environment failed, 128 + N stopped by signal N
after healing (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP; see drills.core.interrupts).

`--repeat N` runs the scenarios N times over on the one stack: exit 0 only when every run of every
scenario met its expectations (a flaky scenario is not met). The aggregation (pass rate, flaky,
RTO/outage/RPO distributions) is `drills.report.repeats`; this module only loops and records.
Every `drill run` writes a JSON summary (`--summary`, default `REPORTS/summary-<time>.json`); an
interrupted run writes what completed before it exits.
"""

from __future__ import annotations

import sys
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from drills.files.stack_file import stack_options
from drills.records.signing import sign_options

if TYPE_CHECKING:
    from collections.abc import Sequence

    from drills.files.scenario import Scenario
    from drills.records.result import RunResult
    from drills.records.signing import Signer
    from drills.report.run_log import RunLog
    from drills.stack.definition import StackDefinition


def _suite_files(suite: str, root: Path) -> list[Path]:
    from drills.files.scenario import load_scenario

    files = sorted((root / "scenarios").glob("*.yaml"))
    return [f for f in files if suite in load_scenario(f).suites]


@click.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--suite", default=None, help="Run every scenario of this suite (e.g. policy).")
@click.option("--project", default=None, help="Run against a stack already up (`drill stack up`).")
@click.option("--reports", "reports_dir", default=Path("reports"), show_default=True,
              type=click.Path(path_type=Path), help="Where results land.")
@click.option("--repeat", type=click.IntRange(min=1), default=1, show_default=True,
              help="Run the scenarios N times over on the same stack: pass rate, flaky, RTO/RPO distributions.")
@click.option("--summary", "summary_path", default=None, type=click.Path(path_type=Path),
              help="Where to write the JSON summary [default: REPORTS/summary-<time>.json].")
@stack_options
@sign_options
def run(files: tuple[Path, ...], suite: str | None, project: str | None, reports_dir: Path, *, repeat: int,
        summary_path: Path | None, stack_path: Path | None, overrides: tuple[Path, ...], sign_key: Path | None,
        signer_name: str | None) -> None:
    """Run drills: start the stack, drive traffic, inject faults, heal, check the expectations.

    \b
    Exit codes: 0 every expectation met, 1 some not met or not measured, 2 invalid input,
    3 harness or environment failure; stopped by Ctrl-C, SIGTERM or SIGHUP: every fault is
    healed and a stack this run started is removed first, then 130 (Ctrl-C), 143 (SIGTERM)
    or 129 (SIGHUP). A second signal does not cut that short; SIGKILL does (`drill clean`
    heals what is left).
    """
    from drills.core import interrupts
    from drills.core.errors import ScenarioError
    from drills.files.scenario import load_scenario, validate_files
    from drills.files.stack_file import load_stack
    from drills.provision.images import project_root
    from drills.records.signing import signer_of
    from drills.report.run_log import RunLog

    paths = list(files) + (_suite_files(suite, project_root()) if suite else [])
    if not paths:
        raise click.UsageError("name scenario files or --suite")
    problems = validate_files(paths)
    if problems:
        raise ScenarioError("\n".join(str(p) for p in problems), hint="`drill validate` checks files without running")
    scenarios = [(p, load_scenario(p)) for p in paths]
    if project is not None and (stack_path is not None or overrides):
        raise click.UsageError("--project runs on a stack already up, with its own stack file: drop --stack and -f")
    definition = None if project is not None else load_stack(stack_path, overrides)
    signer = signer_of(sign_key, signer_name)
    if signer is not None:
        click.echo(f"signing every run's manifest: {signer.algorithm} key {signer.fingerprint} ({signer.identity})",
                   err=True)
    log = RunLog(repeat)
    summary_path = summary_path or reports_dir / f"summary-{time.strftime('%Y%m%dT%H%M%S')}.json"
    with interrupts.trapped():  # SIGTERM and SIGHUP unwind (heal, stack down) exactly like Ctrl-C
        try:
            execute(scenarios, project=project, reports_dir=reports_dir, repeat=repeat, log=log,
                    definition=definition, signer=signer)
        except BaseException:
            # Stopped by a signal or a harness failure: faults are healed and the stack is down by
            # now; say what completed (a second signal is held back while this is written).
            if log.results:
                try:
                    report_log(log, reports_dir, summary_path, interrupted=True)
                except Exception as exc:  # the interruption is what the user must see, not this
                    click.echo(f"could not write the summary of the completed runs: {exc}", err=True)
            raise
    sys.exit(report_log(log, reports_dir, summary_path, interrupted=False))


def report_log(log: RunLog, reports_dir: Path, summary_path: Path, *, interrupted: bool) -> int:
    """Print the summary, write it as JSON; the exit code the runs call for."""
    from drills.report.repeats import exit_code, sample_of_result
    from drills.report.run_log import print_repeats, write_summary

    results = [r for _, r in log.results]
    code = exit_code(sample_of_result(r, rep) for rep, r in log.results)
    print_summary(results)
    if log.repeat > 1:
        print_repeats(log)
    write_summary(log, summary_path, exit_code=None if interrupted else code)
    if interrupted:
        done = sum(1 for r in log.repetitions if r["complete"])
        click.echo(f"stopped early: {done} of {log.repeat} repetition(s) complete; "
                   f"{len(results)} run(s) recorded", err=True)
    if results:
        click.echo(f"DR-readiness report of these runs: drill report {reports_dir} --last {len(results)}; "
                   f"evidence check: drill verify {reports_dir}; JSON summary: {summary_path}", err=True)
    return code


def execute(scenarios: Sequence[tuple[Path, Scenario]], *, project: str | None, reports_dir: Path,
            repeat: int = 1, log: RunLog | None = None, definition: StackDefinition | None = None,
            signer: Signer | None = None) -> list[RunResult]:
    """The scenarios `repeat` times over in one session (`drills.run.session`: the stack, fitting,
    baseline, drills), each repetition's results and wall time kept in `log` as they come."""
    from drills.report.run_log import RunLog
    from drills.run.session import Session

    log = log if log is not None else RunLog(repeat)
    with Session(reports_dir=reports_dir, definition=definition, project=project, signer=signer) as session:
        fitted = session.fit(scenarios)
        session.up()
        log.stack_up_s = session.stack_up_s
        for rep in range(1, repeat + 1):
            record: dict[str, Any] = {"index": rep, "wall_s": None, "complete": False}
            log.repetitions.append(record)
            t_rep = time.monotonic()
            if repeat > 1:
                click.echo(f"repetition {rep}/{repeat}", err=True)
            try:
                session.run_all(fitted, record=partial(_keep, log, rep),
                                label=partial("[{}/{}] {}".format, rep, repeat) if repeat > 1 else None)
                record["complete"] = True
            finally:
                record["wall_s"] = round(time.monotonic() - t_rep, 1)
    return [r for _, r in log.results]


def _keep(log: RunLog, rep: int, result: RunResult) -> None:
    log.results.append((rep, result))


def print_summary(results: list[RunResult]) -> None:
    from rich.console import Console
    from rich.table import Table

    from drills.report.summary import summary_row

    table = Table(title="drill results", show_lines=True)
    for col in ("scenario", "documented", "observed", "verdict", "RTO", "RPO"):
        table.add_column(col, overflow="fold")
    colors = {"PASSED": "green", "FAILED": "red", "NOT-RUN": "yellow", "ERROR": "red", "ABORTED": "red"}
    for r in results:
        row = summary_row(r)
        verdict = f"[{colors.get(row.verdict, 'white')}]{row.verdict}[/]"
        table.add_row(row.scenario, row.documented, row.observed, verdict, row.rto, row.rpo)
    Console(stderr=True, width=max(160, Console(stderr=True).width)).print(table)
    for r in results:
        if r.out_dir is not None:
            click.echo(f"{r.scenario_id}: {r.out_dir}", err=True)

