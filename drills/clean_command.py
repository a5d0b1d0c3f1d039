"""CLI: `drill clean`."""

from __future__ import annotations

import sys

import click


@click.command()
@click.option("--all", "everything", is_flag=True, help="Also remove live runs and `drill stack up` stacks.")
@click.option("--project", default=None, help="Only this compose project (e.g. drills-1a2b3c).")
def clean(everything: bool, project: str | None) -> None:
    """Heal faults a dead runner left applied and remove its containers, networks and volumes.

    Touches nothing that lacks a Drills project label.
    """
    from drills.cleanup import clean as run_clean
    from drills.provision import engine

    report = run_clean(engine.client(), everything=everything, only=project)
    for line in report.healed:
        click.echo(f"healed   {line}")
    for line in report.removed:
        click.echo(f"removed  {line}")
    for line in report.kept:
        click.echo(f"kept     {line} (owner alive or a `drill stack up` stack; --all removes it)")
    for line in report.errors:
        click.secho(f"error    {line}", fg="red", err=True)
    if not (report.healed or report.removed or report.errors):
        click.echo("nothing to clean")
    sys.exit(3 if report.errors else 0)
