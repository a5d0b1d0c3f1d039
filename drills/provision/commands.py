"""CLI: `drill setup`, `drill doctor`, `drill smoke`."""

from __future__ import annotations

import json
import sys
import time

import click


@click.command()
@click.option("--images/--no-images", default=True, show_default=True, help="Build the stack images too.")
def setup(images: bool) -> None:
    """Make this machine able to run drills: engine, Compose v2, base image, stack images.

    Idempotent; fast when everything is already there.
    """
    from drills.provision import base_image, engine
    from drills.provision import images as stack_images
    from drills.provision.checks import compose_check
    from drills.provision.progress import ConsoleReporter

    t0 = time.monotonic()
    reporter = ConsoleReporter()
    engine.ensure_engine(reporter)
    compose = compose_check()
    if compose.blocking:
        from drills.errors import SetupError

        raise SetupError(f"Docker Compose v2 unavailable: {compose.detail}", hint=compose.fix)
    reporter.ok(f"docker compose {compose.detail}")
    client = engine.client()
    base = base_image.ensure(client, reporter)
    if images:
        stack_images.ensure_images(client, reporter, base=base)
    reporter.ok(f"ready in {time.monotonic() - t0:.1f} s")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def doctor(as_json: bool) -> None:
    """Show what drills need, what is missing and how to fix it; exit 0 only when drills can run."""
    from drills.provision.checks import Status, run_checks

    checks = run_checks()
    blocking = [c for c in checks if c.blocking]
    if as_json:
        click.echo(json.dumps(
            {"ready": not blocking,
             "checks": [{"name": c.name, "status": c.status.value, "detail": c.detail, "fix": c.fix}
                        for c in checks]},
            indent=2,
        ))
    else:
        from rich.console import Console
        from rich.table import Table

        colors = {Status.OK: "green", Status.WARN: "yellow", Status.MISSING: "red"}
        table = Table(title="drill doctor")
        for column in ("check", "status", "detail", "fix"):
            table.add_column(column)
        for c in checks:
            table.add_row(c.name, f"[{colors[c.status]}]{c.status.value}[/]", c.detail, c.fix)
        console = Console()
        console.print(table)
        if blocking:
            console.print(f"[red]not ready[/]: {len(blocking)} problem(s); run the fix column's commands")
        else:
            console.print("[green]ready[/]: drills can run on this machine")
    sys.exit(1 if blocking else 0)


@click.command()
def smoke() -> None:
    """Start a container from the base image, check it answers, remove it."""
    import uuid

    from drills.provision import base_image, engine

    client = engine.client()
    base = base_image.resolve(client)
    if base is None:
        from drills.errors import SetupError

        raise SetupError("no base image", hint="run `drill setup`")
    token = uuid.uuid4().hex
    t0 = time.monotonic()
    out = client.containers.run(
        base, ["sh", "-c", f"echo {token}; cat /etc/debian_version"], remove=True,
        labels={"io.drills.managed": "true", "io.drills.purpose": "smoke"}, network_mode="none",
    )
    text = out.decode() if isinstance(out, bytes) else str(out)
    if token not in text:
        from drills.errors import HarnessError

        raise HarnessError(f"smoke container answered {text!r}, not the token it was given")
    click.echo(f"PASS smoke: container from {base} answered in {time.monotonic() - t0:.2f} s "
               f"(Debian {text.split()[-1]})")
