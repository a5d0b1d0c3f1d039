"""The `drill` command. Thin: every sub-command lives in the module that does the work.

Sub-command groups are registered by import path and imported only when invoked, so
`drill --help` never pays for docker, pydantic or the database drivers.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from drills import __version__

# name -> ("module:attribute", one-line help shown by `drill --help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "setup": ("drills.cli.setup:setup", "Make this machine able to run drills (idempotent)."),
    "doctor": ("drills.cli.setup:doctor", "Show what drills need, what is missing and how to fix it."),
    "smoke": ("drills.cli.setup:smoke", "Start a container from the base image and check it answers."),
    "stack": ("drills.cli.stack:stack", "Bring a stack up (reference or yours), inspect it, tear it down."),
    "run": ("drills.cli.run:run", "Run drills: stack up, traffic, faults, heal, verdicts."),
    "validate": ("drills.cli.scenario:validate",
                 "Check scenario, stack and exploration files; problems at file:line:col."),
    "schema": ("drills.cli.scenario:schema",
               "Print the JSON Schema of scenario (--stack: stack, --exploration: exploration) files."),
    "explore": ("drills.cli.explore:explore", "Draw fault schedules from an exploration's fault space."),
    "cluster": ("drills.cli.cluster:cluster",
                "A test cluster here: Docker daemons in network namespaces, joined in a swarm."),
    "clean": ("drills.cli.clean:clean", "Heal and remove what a dead drill left behind (labelled only)."),
    "report": ("drills.cli.report:report", "Render the DR-readiness report (HTML, Markdown) from drill runs."),
    "verify": ("drills.cli.report:verify", "Check the evidence: every run unaltered, the chain gapless."),
}


class LazyGroup(click.Group):
    """A click group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attribute = target[0].partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                return None  # command not built yet
            raise
        command: click.Command = getattr(module, attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help text comes from the table, so listing commands imports nothing.
        rows = [(name, COMMANDS[name][1]) for name in sorted(COMMANDS)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup)
@click.version_option(__version__, prog_name="drill")
def cli() -> None:
    """Drills: chaos and disaster-recovery drills against a real HA stack."""


def main(argv: list[str] | None = None) -> Any:
    from drills.core.errors import DrillsError

    try:
        return cli.main(args=argv, prog_name="drill", standalone_mode=False)
    except click.exceptions.Abort as exc:
        from drills.core.interrupts import Interrupted, exit_code

        # Ctrl-C, or SIGTERM/SIGHUP under `drills.core.interrupts.trapped()`: 128 + the signal's number.
        cause = exc.__cause__
        click.echo(f"aborted ({cause})" if isinstance(cause, Interrupted) else "aborted", err=True)
        sys.exit(exit_code(cause))
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except DrillsError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(exc.exit_code)
