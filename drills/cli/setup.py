"""CLI: `drill setup`, `drill doctor`, `drill smoke` (provisioning lives in `drills.provision`)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from drills.components.registry import pulled_images
from drills.core.dockerlabels import MANAGED_LABEL, PURPOSE_LABEL
from drills.files.stack_file import stack_options
from drills.provision import pulled_image

if TYPE_CHECKING:
    from drills.components.base import PulledImage

PULLED = pulled_images()  # what `drill setup` pulls and `drill doctor` looks for
_NAMES = " and ".join(p.name for p in PULLED)  # whose pull `--retry-pull` and `--pull-timeout` are about


def _pulls(command: Callable[..., None]) -> Callable[..., None]:
    """`--<profile>/--no-<profile>` for each image components need from a registry (`--mongo`)."""
    for pulled in reversed(PULLED):
        command = click.option(
            f"--{pulled.profile}/--no-{pulled.profile}", _flag(pulled), default=True, show_default=True,
            help=f"Pull the {pulled.name} image ({pulled.reference}, or ${pulled.variable}) where a registry answers.",
        )(command)
    return command


def _flag(pulled: PulledImage) -> str:
    return "pull_" + pulled.profile.replace("-", "_")


@click.command()
@click.option("--images/--no-images", default=True, show_default=True, help="Build the stack images too.")
@_pulls
@click.option("--retry-pull", is_flag=True,
              help=f"Try the {_NAMES} pull now, even if it failed recently (failures are remembered for "
              f"{pulled_image.RETRY_AFTER_S / 3600:.0f} h).")
@click.option("--pull-timeout", default=pulled_image.IDLE_TIMEOUT_S, show_default=True, metavar="SECONDS",
              type=click.IntRange(1, 3600),
              help=f"Give the {_NAMES} pull up when the engine reports nothing for this long.")
def setup(images: bool, retry_pull: bool, pull_timeout: int, **pulls: bool) -> None:
    """Make this machine able to run drills: engine, Compose v2, base image, stack images, and the
    MongoDB image where a registry answers (without it the MongoDB drills are NOT RUN); and the
    system libraries of `drill report --format pdf`.

    Idempotent; fast when everything is already there.
    """
    from drills.provision import base_image, engine, pdf_libs
    from drills.provision import images as stack_images
    from drills.provision.checks import compose_check
    from drills.provision.progress import ConsoleReporter

    t0 = time.monotonic()
    reporter = ConsoleReporter()
    engine.ensure_engine(reporter)
    pdf_libs.ensure(reporter)
    compose = compose_check()
    if compose.blocking:
        from drills.core.errors import SetupError

        raise SetupError(f"Docker Compose v2 unavailable: {compose.detail}", hint=compose.fix)
    reporter.ok(f"docker compose {compose.detail}")
    client = engine.client()
    base = base_image.ensure(client, reporter)
    if images:
        stack_images.ensure_images(client, reporter, base=base)
    for pulled in PULLED:
        if pulls[_flag(pulled)]:
            pulled_image.ensure(client, reporter, pulled, retry=retry_pull, idle_timeout_s=pull_timeout)
    reporter.ok(f"ready in {time.monotonic() - t0:.1f} s")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@stack_options
def doctor(as_json: bool, stack_path: Path | None, overrides: tuple[Path, ...]) -> None:
    """Show what drills need, what is missing and how to fix it; exit 0 only when drills can run.
    With --stack (and -f overrides): that stack's Compose files, roles and images too."""
    from drills.provision.checks import CheckStatus, run_checks
    from drills.provision.images import project_root

    checks = run_checks(lambda: project_scenarios(project_root() / "scenarios"), PULLED)
    if stack_path is not None or overrides:
        from drills.files.stack_file import load_stack
        from drills.provision import engine
        from drills.stack.requirements import for_stack, stack_checks

        definition = load_stack(stack_path, overrides)
        # Only what concerns this stack: the images of its own components, a pulled one where it has one.
        checks = stack_checks(definition, engine.client(timeout=10), checks) if engine.info() is not None \
            else for_stack(checks, definition, None, ())
    blocking = [c for c in checks if c.blocking]
    if as_json:
        click.echo(json.dumps(
            {"ready": not blocking,
             # Scenarios `drill run` would report NOT RUN on this machine, and why.
             "not_run": {s: sorted(c.name for c in checks if s in c.left_out)
                         for s in sorted({s for c in checks for s in c.left_out})},
             "checks": [{"name": c.name, "status": c.status.value, "detail": c.detail, "fix": c.fix,
                         "left_out": list(c.left_out)} for c in checks]},
            indent=2,
        ))
    else:
        from rich.console import Console
        from rich.table import Table

        colors = {CheckStatus.OK: "green", CheckStatus.WARN: "yellow", CheckStatus.MISSING: "red"}
        table = Table(title="drill doctor")
        for column in ("check", "status", "detail", "fix"):
            table.add_column(column, overflow="fold")  # names and commands whole, never cut with "…"
        for c in checks:
            table.add_row(c.name, f"[{colors[c.status]}]{c.status.value}[/]", c.detail, c.fix)
        console = Console()
        console.print(table)
        for c in checks:
            if c.left_out:
                console.print(f"[yellow]NOT RUN here[/] ({c.name} absent): {', '.join(c.left_out)}",
                              soft_wrap=True)
        if blocking:
            console.print(f"[red]not ready[/]: {len(blocking)} problem(s); run the fix column's commands")
        else:
            console.print("[green]ready[/]: drills can run on this machine")
    sys.exit(1 if blocking else 0)


def project_scenarios(directory: Path) -> list[tuple[str, tuple[str, ...]]]:
    """(id, requires) of every valid scenario file in `directory`; invalid files are
    `drill validate`'s business and are skipped here."""
    from drills.core.errors import DrillsError
    from drills.files.scenario import load_scenario

    found = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            scenario = load_scenario(path)
        except DrillsError:
            continue
        found.append((scenario.id, scenario.requires))
    return found


@click.command()
def smoke() -> None:
    """Start a container from the base image, check it answers, remove it."""
    import uuid

    from drills.provision import base_image, engine

    client = engine.client()
    base = base_image.resolve(client)
    if base is None:
        from drills.core.errors import SetupError

        raise SetupError("no base image", hint="run `drill setup`")
    token = uuid.uuid4().hex
    t0 = time.monotonic()
    out = client.containers.run(
        base, ["sh", "-c", f"echo {token}; cat /etc/debian_version"], remove=True,
        labels={MANAGED_LABEL: "true", PURPOSE_LABEL: "smoke"}, network_mode="none",
    )
    text = out.decode() if isinstance(out, bytes) else str(out)
    if token not in text:
        from drills.core.errors import HarnessError

        raise HarnessError(f"smoke container answered {text!r}, not the token it was given")
    click.echo(f"PASS smoke: container from {base} answered in {time.monotonic() - t0:.2f} s "
               f"(Debian {text.split()[-1]})")
