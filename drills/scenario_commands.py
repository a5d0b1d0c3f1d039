"""CLI: `drill validate FILES…` and `drill schema`.

Only click is imported at module level: `drill --help` lists these commands without loading
pydantic or ruamel (they are imported when a command runs).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(files: tuple[Path, ...]) -> None:
    """Check scenario files (a directory: its *.yaml); print every problem as
    file:line:column: field: message. Exit 2 if there is any."""
    from drills.scenario import expand_paths, validate_files

    paths = expand_paths(files)
    if not paths:
        click.echo("no scenario files found in " + ", ".join(map(str, files)), err=True)
        sys.exit(2)
    problems = validate_files(paths)
    for p in problems:
        click.echo(str(p), err=True)
    if problems:
        click.echo(f"{len(problems)} problem(s) in {len({p.file for p in problems})} of {len(paths)} file(s)",
                   err=True)
        sys.exit(2)
    click.echo(f"{len(paths)} scenario file(s) valid")


@click.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editors: yaml-language-server)."""
    from drills.scenario import scenario_json_schema

    click.echo(json.dumps(scenario_json_schema(), indent=2))
