"""CLI: `drill report` (the DR-readiness report) and `drill verify` (the evidence chain).

    drill report [RUN_DIR_OR_REPORTS_DIR ...] [--last N] [--out DIR] [--format html|md|both]
    drill verify [REPORTS_DIR]

`verify` exits 0 when every sealed run is as sealed and the chain has no gap or broken link, 1
otherwise, naming each artifact changed, added or removed and each broken link or gap.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--last", type=click.IntRange(min=1), default=None,
              help="Only the last N runs (by sequence number).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Where to write drill-report.html/.md (default: the reports directory).")
@click.option("--format", "fmt", type=click.Choice(["html", "md", "both"]), default="both", show_default=True)
@click.option("--trend", "trend_last", type=click.IntRange(min=1), default=10, show_default=True,
              help="Runs per scenario in the RTO/RPO trend.")
def report(paths: tuple[Path, ...], last: int | None, out_dir: Path | None, fmt: str, trend_last: int) -> None:
    """Render the DR-readiness report (self-contained HTML, Markdown) from drill runs."""
    from drills.errors import DrillsError
    from drills.report.render import render
    from drills.report.runs import load_runs, reports_dirs

    sources = list(paths) or [Path("reports")]
    runs = load_runs(sources, last=last)
    if not runs:
        raise DrillsError(f"no runs found in {', '.join(map(str, sources))}",
                          hint="run a drill first (`drill run --suite policy`), or name reports/<run-id>/")
    out = out_dir or reports_dirs(runs)[0]
    formats = ("html", "md") if fmt == "both" else (fmt,)
    for path in render(runs, out, formats, trend_last=trend_last):
        click.echo(str(path))


@click.command()
@click.argument("reports_dir", required=False, default=Path("reports"), type=click.Path(path_type=Path))
def verify(reports_dir: Path) -> None:
    """Check that every sealed run is unaltered and the evidence chain is gapless."""
    from drills.report.evidence import verify as verify_chain

    if not reports_dir.is_dir():
        raise click.UsageError(f"{reports_dir} is not a directory")
    result = verify_chain(reports_dir)
    for finding in result.findings:
        click.secho(f"FAIL {finding}", fg="red")
    if result.intact:
        if result.runs:
            click.secho(f"intact: {result.runs} sealed run(s), #1..#{result.head_seq}; "
                        f"chain head sha256 {result.head_sha256}", fg="green")
        else:
            click.echo(f"intact: no sealed runs in {reports_dir}")
        sys.exit(0)
    click.secho(f"NOT INTACT: {len(result.findings)} finding(s) in {reports_dir} ({result.runs} sealed run(s))",
                fg="red", err=True)
    sys.exit(1)
