"""CLI: `drill validate FILES…` and `drill schema [--stack]`.

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
    """Check scenario, stack and exploration files (a directory: its *.yaml; a stack folder: its
    stack.yaml); print every problem as file:line:column: field: message. Exit 2 if there is any."""
    from drills.files.exploration import check_exploration_file, looks_like_exploration_file
    from drills.files.scenario import expand_paths, validate_files
    from drills.files.scenario_yaml import top_level_keys
    from drills.files.stack_file import FILE_NAME, check_stack_file, looks_like_stack_file

    stack_dirs = [f for f in files if f.is_dir() and (f / FILE_NAME).is_file()]
    paths = [*expand_paths(f for f in files if f not in stack_dirs), *(d / FILE_NAME for d in stack_dirs)]
    if not paths:
        click.echo("no scenario or stack files found in " + ", ".join(map(str, files)), err=True)
        sys.exit(2)
    keys = {p: top_level_keys(p) for p in paths}  # scanned once: what tells the three kinds apart
    stack_files = [p for p in paths if looks_like_stack_file(p, keys[p])]
    exploration_files = [p for p in paths if p not in stack_files and looks_like_exploration_file(p, keys[p])]
    scenario_files = [p for p in paths if p not in stack_files and p not in exploration_files]
    problems = validate_files(scenario_files) if scenario_files else []
    for path in stack_files:
        problems += check_stack_file(path)[1]
    for path in exploration_files:
        problems += check_exploration_file(path)[1]
    for p in problems:
        click.echo(str(p), err=True)
    if problems:
        click.echo(f"{len(problems)} problem(s) in {len({p.file for p in problems})} of {len(paths)} file(s)",
                   err=True)
        sys.exit(2)
    kinds = [f"{len(scenario_files)} scenario file(s)"] * bool(scenario_files) + \
        [f"{len(stack_files)} stack file(s)"] * bool(stack_files) + \
        [f"{len(exploration_files)} exploration file(s)"] * bool(exploration_files)
    click.echo(" and ".join(kinds) + " valid")


@click.command()
@click.option("--stack", "of_stack", is_flag=True, help="The schema of stack files instead of scenarios.")
@click.option("--exploration", "of_exploration", is_flag=True,
              help="The schema of exploration files (drill explore) instead of scenarios.")
def schema(of_stack: bool, of_exploration: bool) -> None:
    """Print the JSON Schema of scenario files, of stack files with --stack, or of exploration
    files with --exploration (for editors: yaml-language-server)."""
    if of_stack and of_exploration:
        raise click.UsageError("--stack and --exploration: give one of them")
    if of_exploration:
        from drills.files.exploration import exploration_json_schema

        click.echo(json.dumps(exploration_json_schema(), indent=2))
        return
    if of_stack:
        from drills.files.stack_file import stack_json_schema

        click.echo(json.dumps(stack_json_schema(), indent=2))
        return
    from drills.files.scenario import scenario_json_schema

    click.echo(json.dumps(scenario_json_schema(), indent=2))
