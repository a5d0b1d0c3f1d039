"""CLI: `drill validate FILES…` and `drill schema`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(files: tuple[Path, ...]) -> None:
    """Check scenario files; print every problem as file:line:column: field: message."""
    from drills.scenario import validate_files

    problems = validate_files(list(files))
    for p in problems:
        click.echo(str(p), err=True)
    if problems:
        click.echo(f"{len(problems)} problem(s) in {len({p.file for p in problems})} file(s)", err=True)
        sys.exit(2)
    click.echo(f"{len(files)} scenario file(s) valid")


@click.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editors: yaml-language-server)."""
    from drills.scenario import scenario_json_schema

    click.echo(json.dumps(scenario_json_schema(), indent=2))
