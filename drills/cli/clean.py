"""CLI: `drill clean`."""

from __future__ import annotations

import sys

import click


@click.command()
@click.option("--all", "everything", is_flag=True,
              help="Also remove projects whose runner is alive, `drill stack up` stacks and projects unknown "
                   "to this state dir, with their volumes.")
@click.option("--project", default=None,
              help="Look at this compose project only (e.g. drills-1a2b3c); it removes no more than without it.")
def clean(everything: bool, project: str | None) -> None:
    """Heal faults that a dead drill left applied, remove what dead runs started, and prune records
    of stacks that no longer exist.

    \b
    drill clean              for every Drills project on this machine:
                             - a dead `drill run`'s own stack (so says its record in
                               this state dir): faults healed, then its containers,
                               networks and volumes removed;
                             - a Drills project this state dir has no record of
                               (another user's, another XDG_STATE_HOME's): kept;
                             - a `drill stack up` stack: faults a dead drill left on it
                               healed; the stack and its volumes kept (remove it with
                               `drill stack down`);
                             - a project whose runner is alive: untouched;
                             - a record of a stack of which no container, network or
                               volume is left: pruned.
    drill clean --project P  the same, for P alone.
    drill clean --all        also removes live runs' stacks, `drill stack up` stacks and
                             unknown projects, with their volumes (with --project: P alone).

    Touches nothing that lacks a Drills project label.
    """
    from drills.provision import engine
    from drills.run.cleanup import clean as run_clean

    report = run_clean(engine.client(), everything=everything, only=project)
    for line in report.healed:
        click.echo(f"healed   {line}")
    for line in report.removed:
        click.echo(f"removed  {line}")
    for line in report.pruned:
        click.echo(f"pruned   {line} (its record is forgotten)")
    for line in report.kept:
        click.echo(f"kept     {line}")
    for line in report.errors:
        click.secho(f"error    {line}", fg="red", err=True)
    if not (report.healed or report.removed or report.pruned or report.errors):
        click.echo("nothing to clean" + (f" ({project} is not known here)" if project and not report.kept else ""))
    sys.exit(3 if report.errors else 0)
