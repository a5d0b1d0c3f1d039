"""CLI: `drill report` (the DR-readiness report) and `drill verify` (the evidence chain).

    drill report [RUN_DIR_OR_REPORTS_DIR ...] [--last N] [--out DIR] [--format html|md|pdf|both]
    drill verify [REPORTS_DIR | RUN_DIR] [--trust PUBKEY ...]

`verify` exits 0 when every sealed run is as sealed and the chain has no gap or broken link, 1
otherwise, naming each artifact changed, added or removed and each broken link or gap. Nothing
sealed found is 1 too: no evidence is never "intact". With `--trust`, every run must also be signed
(`drill run --sign-key`) by one of the trusted keys: that proves who sealed the chain, which the
hashes alone cannot (whoever can write the folder can recompute them all).

The report also says what each exploration folder (`explore-*`, written by `drill explore`) named,
or directly under a reports directory named, found: a failing schedule is a finding with its
replayable scenario attached.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from drills.records.signing import Trusted


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--last", type=click.IntRange(min=1), default=None,
              help="Only the last N runs (by sequence number).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Where to write drill-report.html/.md/.pdf (default: the reports directory).")
@click.option("--format", "fmt", type=click.Choice(["html", "md", "pdf", "both"]), default="both", show_default=True,
              help="both: HTML and Markdown; pdf: the HTML laid out for A4 paper (needs `drill setup`'s libraries).")
@click.option("--trend", "trend_last", type=click.IntRange(min=1), default=10, show_default=True,
              help="Runs per scenario in the RTO/RPO trend.")
def report(paths: tuple[Path, ...], last: int | None, out_dir: Path | None, fmt: str, trend_last: int) -> None:
    """Render the DR-readiness report (self-contained HTML, Markdown, or PDF) from drill runs."""
    from drills.core.errors import DrillsError
    from drills.report.explorations import find_exploration_dirs, load_exploration
    from drills.report.render import render
    from drills.report.runs import load_runs, reports_dirs

    sources = list(paths) or [Path("reports")]
    runs = load_runs(sources, last=last)
    if not runs:
        raise DrillsError(f"no runs found in {', '.join(map(str, sources))}",
                          hint="run a drill first (`drill run --suite policy`), or name reports/<run-id>/")
    # A nightly exploration writes its folder beside the suite's runs: its finding belongs in the report.
    explorations = [load_exploration(d) for d in find_exploration_dirs(sources)]
    out = out_dir or reports_dirs(runs)[0]
    formats = ("html", "md") if fmt == "both" else (fmt,)
    for path in render(runs, out, formats, trend_last=trend_last, explorations=explorations):
        click.echo(str(path))


WHAT_TO_PASS = "pass a reports directory (`drill verify reports`) or one run's folder (`drill verify reports/<run-id>`)"


@click.command()
@click.argument("path", required=False, default=Path("reports"), type=click.Path(path_type=Path))
@click.option("--trust", "trust", multiple=True, type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="A public key whose signatures are trusted (OpenSSH .pub line, allowed_signers file or PEM); "
                   "repeatable. Every run must be signed by one of them.")
def verify(path: Path, trust: tuple[Path, ...]) -> None:
    """Check sealed evidence: a reports directory, or one run's folder.

    PATH is a reports directory (default: reports): every sealed run unaltered, the chain gapless.
    Or one run's folder (reports/<run-id>/): each artifact against the run's manifest.json, and its
    index line and chain links when the folder is inside its reports directory. With --trust, each
    run's manifest must carry a good signature by a trusted key (who sealed it); without, origin is
    not checked. Exits 0 only when something sealed was found and all of it is as sealed (and
    signed by a trusted key, with --trust); 1 otherwise."""
    from drills.records.evidence import is_run_dir
    from drills.records.signing import load_trusted

    if not path.is_dir():
        raise click.UsageError(f"{path} is not a directory: {WHAT_TO_PASS}")
    trusted = load_trusted(list(trust)) if trust else None
    sys.exit(_verify_run(path, trusted) if is_run_dir(path) else _verify_reports(path, trusted))


def _origin(signed: int, runs: int, trusted: Trusted | None) -> str:
    if trusted is None:
        return (f"signatures not checked: origin NOT verified ({signed} of {runs} run(s) carry a signature); "
                f"pass --trust PUBKEY to check who sealed them")
    return f"origin verified: signed by a trusted key (trusted: {', '.join(trusted.fingerprints())})"


def _verify_reports(reports_dir: Path, trusted: Trusted | None) -> int:
    from drills.records.evidence import verify as verify_chain

    result = verify_chain(reports_dir, trusted)
    for finding in result.findings:
        click.secho(f"FAIL {finding}", fg="red")
    if result.intact:
        click.secho(f"intact: {result.runs} sealed run(s), #1..#{result.head_seq}; "
                    f"chain head sha256 {result.head_sha256}", fg="green")
        click.echo(_origin(result.signed, result.runs, trusted))
        return 0
    if not result.runs and not result.findings:
        click.secho(f"NOT VERIFIED: nothing sealed in {reports_dir} (no run folder with a manifest.json, no "
                    f"runs.jsonl): {WHAT_TO_PASS}", fg="red", err=True)
        return 1
    click.secho(f"NOT INTACT: {len(result.findings)} finding(s) in {reports_dir} ({result.runs} sealed run(s))",
                fg="red", err=True)
    return 1


def _verify_run(run_dir: Path, trusted: Trusted | None) -> int:
    from drills.records.evidence import verify_run_dir

    result = verify_run_dir(run_dir, trusted)
    for finding in result.findings:
        click.secho(f"FAIL {finding}", fg="red")
    if result.intact:
        click.secho(f"intact: run #{result.seq} {result.run_dir.name}: {result.artifacts} artifact(s) as sealed in "
                    f"its manifest.json (sha256 {result.manifest_sha256})", fg="green")
        for line in result.chain:
            click.echo(line)
        click.echo(_origin(int(result.signed), 1, trusted))
        return 0
    click.secho(f"NOT INTACT: {len(result.findings)} finding(s) in run folder {run_dir}", fg="red", err=True)
    return 1
