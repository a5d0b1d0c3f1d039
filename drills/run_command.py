"""CLI: `drill run FILES… | --suite NAME`.

Exit codes: 0 every expectation met (NOT RUN scenarios excepted), 1 some expectation not met or
not measured, 2 invalid input, 3 the harness or the environment failed, 128 + N stopped by signal N
after healing (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP; see drills.interrupts).
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from collections.abc import Sequence

    from drills.history import History
    from drills.runner import RunResult
    from drills.scenario import Scenario


class ConsoleProgress:
    """Phase changes as they happen, and every few seconds each signal's ok/fail counts."""

    def __init__(self, scenario_id: str) -> None:
        self.scenario_id = scenario_id
        self.t0 = time.monotonic()
        self.history: History | None = None
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def _line(self, text: str) -> None:
        click.echo(f"[{time.monotonic() - self.t0:6.1f}s] {self.scenario_id}: {text}", err=True)

    def phase(self, name: str, detail: str = "") -> None:
        self._line(f"{name} {detail}".rstrip())

    def watch(self, history: History, every_s: float = 5.0) -> None:
        self.history = history

        def tick() -> None:
            while not self._stop.wait(every_s):
                counts = dict(history.counts)
                if counts:
                    self._line("  " + "  ".join(f"{k}={v}" for k, v in sorted(counts.items())))

        self._ticker = threading.Thread(target=tick, name="progress", daemon=True)
        self._ticker.start()

    def close(self) -> None:
        self._stop.set()


def _suite_files(suite: str, root: Path) -> list[Path]:
    from drills.scenario import load_scenario

    files = sorted((root / "scenarios").glob("*.yaml"))
    return [f for f in files if suite in load_scenario(f).suites]


@click.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--suite", default=None, help="Run every scenario of this suite (e.g. policy).")
@click.option("--project", default=None, help="Run against a stack already up (`drill stack up`).")
@click.option("--reports", "reports_dir", default=Path("reports"), show_default=True,
              type=click.Path(path_type=Path), help="Where results land.")
def run(files: tuple[Path, ...], suite: str | None, project: str | None, reports_dir: Path) -> None:
    """Run drills: start the stack, drive traffic, inject faults, heal, check the expectations.

    \b
    Exit codes: 0 every expectation met, 1 some not met or not measured, 2 invalid input,
    3 harness or environment failure; stopped by Ctrl-C, SIGTERM or SIGHUP: every fault is
    healed and a stack this run started is removed first, then 130 (Ctrl-C), 143 (SIGTERM)
    or 129 (SIGHUP). A second signal does not cut that short; SIGKILL does (`drill clean`
    heals what is left).
    """
    from drills import interrupts
    from drills.errors import ScenarioError
    from drills.provision.images import project_root
    from drills.scenario import load_scenario, validate_files

    paths = list(files) + (_suite_files(suite, project_root()) if suite else [])
    if not paths:
        raise click.UsageError("name scenario files or --suite")
    problems = validate_files(paths)
    if problems:
        raise ScenarioError("\n".join(str(p) for p in problems), hint="`drill validate` checks files without running")
    scenarios = [(p, load_scenario(p)) for p in paths]
    with interrupts.trapped():  # SIGTERM and SIGHUP unwind (heal, stack down) exactly like Ctrl-C
        results = execute(scenarios, project=project, reports_dir=reports_dir)
    print_summary(results)
    if results:
        click.echo(f"DR-readiness report of these runs: drill report {reports_dir} --last {len(results)}; "
                   f"evidence check: drill verify {reports_dir}", err=True)
    statuses = {r.status for r in results}
    if statuses & {"error", "aborted"}:
        sys.exit(3)
    sys.exit(1 if "failed" in statuses else 0)


def execute(scenarios: Sequence[tuple[Path, Scenario]], *, project: str | None, reports_dir: Path) -> list[RunResult]:
    if project is not None:  # containers gone behind our back: say so at once, not after a readiness timeout
        from drills.stack.presence import require_complete

        require_complete(project)
    from drills import interrupts
    from drills.cleanup import clean
    from drills.provision import engine
    from drills.provision.requirements import MONGO_IMAGE, describe, unmet
    from drills.runner import Drill, not_run
    from drills.stack.mongo import image_present
    from drills.stack.project import ComposeProject
    from drills.stack.readiness import wait_ready
    from drills.workload.suite import build_workload

    client = engine.client()
    clean(client)  # heal and remove what a killed runner left behind, before anything new starts
    results: list[RunResult] = []
    runnable: list[tuple[Path, Scenario]] = []
    for path, sc in scenarios:
        # `mongo:7` is answered by DRILLS_MONGO_IMAGE where a site runs its own MongoDB image.
        missing = [describe(r) for r in unmet(sc.requires, lambda image: image_present(client, image))]
        if missing:
            results.append(not_run(sc, path, reports_dir, f"image {', '.join(missing)} absent on this machine "
                                                          "(`drill doctor` says how to get it)"))
            click.echo(f"NOT RUN {sc.id}: image {', '.join(missing)} absent", err=True)
        else:
            runnable.append((path, sc))
    if not runnable:
        return results
    mongo = image_present(client, MONGO_IMAGE)
    stack = ComposeProject.attach(project, client) if project else ComposeProject.create(client=client, mongo=mongo)
    try:
        if project is None:
            click.echo(f"starting stack {stack.project}", err=True)
            stack.up()
        for path, sc in runnable:
            # One stack serves every scenario: back to a verified baseline first.
            wait_ready(stack, timeout_s=sc.recovery.timeout)
            progress = ConsoleProgress(sc.id)
            drill = Drill(sc, path, stack, reports_dir=reports_dir, workload_factory=build_workload,
                          progress=progress)
            progress.watch(drill.history)
            try:
                results.append(drill.run())
            finally:
                progress.close()
            interrupts.raise_pending()  # a signal that came while the drill healed: stop here
    finally:
        if project is None:
            stack.down()
    return results


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
