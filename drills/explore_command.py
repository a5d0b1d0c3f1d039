"""CLI: `drill explore FILE`: schedules drawn from an exploration's fault space.

Today it reads the exploration (every problem at file:line:col, exit 2), prints its fault space,
the seed and the budget, and stops with exit 3: running the drawn schedules on a stack is not
built yet, and an exploration that ran nothing is never reported as one that found nothing.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import click

from drills.stack_file import stack_options


@click.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@stack_options
@click.option("--budget", default="20m", show_default=True, help="How long to explore (e.g. 20m, 90s).")
@click.option("--max-examples", type=click.IntRange(min=1), default=None, help="At most this many schedules.")
@click.option("--seed", type=int, default=None, help="Hypothesis's seed (default: a new one, printed).")
def explore(file: Path, *, stack_path: Path | None, overrides: tuple[Path, ...], budget: str,
            max_examples: int | None, seed: int | None) -> None:
    """Draw fault schedules from an exploration file's fault space, check its invariants on each,
    and write a failing schedule, shrunk, as a scenario that `drill run` replays."""
    from drills.errors import ScenarioError
    from drills.exploration import load_exploration
    from drills.explore.space import describe
    from drills.scenario_types import parse_duration
    from drills.stack_file import load_stack

    try:
        budget_s = parse_duration(budget)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--budget") from None
    if not file.is_file():
        raise ScenarioError(f"no exploration file {file}", hint="explorations/ has examples; "
                                                                "`drill schema --exploration` prints the format")
    exploration = load_exploration(file)
    stack = load_stack(stack_path, overrides)
    seed = seed if seed is not None else random.SystemRandom().randrange(2**32)
    for line in describe(exploration):
        click.echo(line)
    click.echo(f"stack {stack.name}; budget {budget_s:g} s"
               + (f", at most {max_examples} example(s)" if max_examples else "") + f"; seed {seed}")
    click.echo("drill explore does not run schedules yet: nothing was explored, so nothing is reported as "
               "holding. Validate with `drill validate`, and replay a written scenario with `drill run`.", err=True)
    sys.exit(3)
