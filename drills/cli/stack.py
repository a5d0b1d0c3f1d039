"""CLI: `drill stack up | status | logs | down`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from drills.files.stack_file import stack_options

if TYPE_CHECKING:
    from rich.console import Console

    from drills.components.base import StatusView
    from drills.stack.status import StackStatus

PROJECT_HELP = "Compose project (drills-xxxxxx); default: the only stack up (of --stack, if given)."
STACK_HELP = "Only stacks drilled from this stack file (a stack.yaml or its folder)."


def _pick_project(project: str | None, stack_path: Path | None = None) -> str:
    """The named project, or the only saved stack that still has containers (of the stack file
    `stack_path`, if given). Saved stacks that have none are listed as gone on stderr, never
    counted as up."""
    from drills.core.errors import StackError

    if project:
        return project
    live, gone = _saved_stacks()
    if stack_path is not None:
        live = _of_stack_file(live, stack_path)
    for line in gone:
        click.echo(line, err=True)
    if len(live) == 1:
        return live[0]
    if not live:
        raise StackError("no stack is up" + (f" ({len(gone)} saved, all gone: see above)" if gone else ""),
                         hint="start one with `drill stack up`" + ("; `drill clean` prunes the records of stacks "
                                                                   "of which nothing is left" if gone else ""))
    raise StackError(f"{len(live)} stacks are up: {', '.join(live)}", hint="choose one with --project")


def _of_stack_file(projects: list[str], stack_path: Path) -> list[str]:
    from drills.files.stack_file import stack_path as resolve
    from drills.stack import state

    wanted = resolve(stack_path).resolve()
    return [p for p in projects if (d := state.load(p).definition) is not None and d.path == wanted]


def _saved_stacks() -> tuple[list[str], list[str]]:
    """(saved stacks with containers, one line per saved stack without any)."""
    from drills.core import local_state
    from drills.provision import engine
    from drills.stack import state
    from drills.stack.presence import containers_per_project, existing_projects

    client = engine.client()
    counts = containers_per_project(client)
    existing = existing_projects(client)
    owners = {o.project: o for o in local_state.owners()}
    live, gone = [], []
    for name in state.known():
        owner = owners.get(name)
        if counts[name]:
            live.append(name)
        elif owner is not None and local_state.pid_alive(owner.pid):  # being brought up or taken down right now
            gone.append(f"{name}: no container (yet, or any more): its owner, pid {owner.pid}, is at work on it")
        elif name in existing and owner is not None and owner.kind == "run":
            gone.append(f"{name}: gone (no container left), what a dead drill run left: `drill clean` removes it")
        elif name in existing:
            gone.append(f"{name}: gone (no container left; its network or volumes remain): "
                        f"`drill stack up --project {name}` brings it back, `drill stack down --project {name}` "
                        "removes the rest")
        else:
            gone.append(f"{name}: gone (no container, network or volume left): `drill clean` prunes its record")
    return live, gone


@click.group()
def stack() -> None:
    """Bring a stack up (the reference HA stack, or yours with --stack), inspect it, tear it down."""


@stack.command()
@click.option("--project", default=None, help="Name of the new project (default: drills-<random>).")
@click.option("--timeout", "timeout_s", default=None, type=float,
              help="Seconds to wait for readiness [default: the stack file's readiness_timeout_s, 120].")
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait until every component is ready.")
@stack_options
def up(project: str | None, timeout_s: float | None, wait: bool, stack_path: Path | None,
       overrides: tuple[Path, ...]) -> None:
    """Start a stack: the reference one (PostgreSQL/Patroni, RabbitMQ, MongoDB if its image is here,
    load balancer, app tier), or yours (--stack, with -f Compose overrides).

    It stays up until `drill stack down`; `drill clean` keeps it too. With --project naming a
    stack saved here (one whose containers were removed, or one that is up), it is brought back
    with its saved settings (images, secrets, subnet, ports) and its volumes are kept.
    """
    from drills.core.errors import StackError
    from drills.files.stack_file import load_stack
    from drills.provision import engine
    from drills.provision.progress import ConsoleReporter
    from drills.stack import state
    from drills.stack.presence import left_behind
    from drills.stack.project import ComposeProject
    from drills.stack.status import left_out

    reporter = ConsoleReporter()
    client = engine.client()
    saved = project if project is not None and project in state.known() else None
    if saved is not None and (stack_path is not None or overrides):
        raise click.UsageError(f"{saved} is brought back with its saved stack file and overrides: drop --stack and -f")
    if saved is not None:
        _refuse_if_owned_by_a_live_process(saved)
        sp = ComposeProject.attach(saved, client)
        reporter.step(f"bringing {sp.project} back with its saved settings; its volumes are kept")
    else:
        definition = load_stack(stack_path, overrides)
        sp = ComposeProject.create(client=client, project=project, owner_kind="stack", reporter=reporter,
                                   definition=definition)
        files = " ".join(f"-f {f}" for f in sp.files)
        reporter.step(f"starting {sp.project} (stack {definition.name}: {files})")
    for line in left_out(sp.settings):
        reporter.detail(line)
    try:
        report = sp.up(wait=wait, timeout_s=timeout_s, keep_volumes=saved is not None)
    except StackError as exc:
        # A `drill stack up` stack is the user's: nothing removes it but `drill stack down` (not even
        # `drill clean`), so the last words of a failed one say what is left and what removes it.
        raise StackError(f"{exc.args[0]}\n{left_behind(client, sp.project)}",
                         hint=f"`drill stack logs --project {sp.project}` and `drill stack status --project "
                              f"{sp.project}` to look closer; `drill stack down --project {sp.project}` "
                              "removes it") from exc
    reporter.ok(f"compose up returned after {report.compose_s:.1f} s; network {sp.network_name} {sp.network_subnet()}")
    for name, elapsed in sorted(report.ready_s.items(), key=lambda kv: kv[1]):
        reporter.ok(f"{name} ready at {elapsed:.1f} s")
    click.echo(f"{sp.project} {'ready' if wait else 'started'} in {report.total_s:.1f} s")
    click.echo(f"  drill stack status --project {sp.project}")
    click.echo(f"  drill stack down --project {sp.project}")


def _refuse_if_owned_by_a_live_process(project: str) -> None:
    from drills.core import local_state
    from drills.core.errors import StackError

    for owner in local_state.owners():
        if owner.project == project and local_state.pid_alive(owner.pid):
            raise StackError(f"{project} belongs to a process that is still running (pid {owner.pid}, "
                             f"{'a drill run' if owner.kind == 'run' else 'drill stack up'})",
                             hint="wait until it ends, or name another --project")


@stack.command()
@click.option("--project", default=None, help=PROJECT_HELP)
@click.option("--stack", "stack_path", default=None, type=click.Path(path_type=Path), help=STACK_HELP)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(project: str | None, stack_path: Path | None, as_json: bool) -> None:
    """Services' health, PostgreSQL leader and replica lag, RabbitMQ members and queue leaders,
    MongoDB primary, and the effective configuration read back from the running system."""
    from drills.stack.presence import presence
    from drills.stack.project import ComposeProject
    from drills.stack.status import collect

    sp = ComposeProject.attach(_pick_project(project, stack_path))
    found = presence(sp)
    if not found.expected or len(found.missing) == len(found.expected):
        raise found.problem()  # nothing to ask: say it is gone and how to bring it back
    result = collect(sp, missing=found.missing, subnet=sp.network_subnet())
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2, default=str))
    else:
        _render(result)
    if found.missing:
        click.secho(f"warning: {found.problem()}", fg="yellow", err=True)


def _render(st: StackStatus) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    health_color = {"healthy": "green", "unhealthy": "red", "starting": "yellow", None: "white"}

    services = Table(title=f"{st.project} ({st.subnet})")
    for column in ("service", "state", "health", "published on 127.0.0.1"):
        services.add_column(column)
    for s in st.services:
        ports = ", ".join(f"{c}->{h}" for c, h in sorted(s.ports.items()))
        color = health_color.get(s.health, "white") if s.state == "running" else "red"
        services.add_row(s.service, s.state, f"[{color}]{s.health or '-'}[/]", ports)
    for name in st.missing:
        services.add_row(name, "[red]no container[/]", "-", "")
    console.print(services)
    if st.stack:
        console.print(f"stack {st.stack}: " + " ".join(f"-f {f}" for f in st.compose_files))
        console.print("roles: " + "; ".join(f"{role} {', '.join(services)}" for role, services in st.roles.items()))

    for view in st.views():
        _render_view(console, view)
    if st.shows_effective:
        _render_effective(console, st)


def _render_view(console: Any, view: StatusView) -> None:
    """Any component's status: its table (when it has columns), then its lines. Both are rich
    markup, as the component wrote them; what went wrong is among its lines, said in its words."""
    from rich.table import Table

    if view.columns:
        table = Table(title=view.title)
        for column in view.columns:
            table.add_column(column)
        for row in view.rows:
            table.add_row(*row)
        console.print(table)
    for line in view.notes:
        console.print(line)


def _render_effective(console: Console, st: StackStatus) -> None:
    from rich.markup import escape

    from drills.stack.effective_text import lines

    read_s = st.effective.read_s
    console.print("\n[bold]Effective configuration[/] (read back from the running system"
                  + (f" in {read_s:.1f} s)" if read_s is not None else ")"))
    for label, text in lines(st.effective):
        color = "red" if text.startswith("NOT READ") else "white"
        console.print(f"  {label}: [{color}]{escape(text)}[/]")


@stack.command()
@click.option("--project", default=None, help=PROJECT_HELP)
@click.option("-f", "--follow", is_flag=True, help="Keep following.")
@click.option("--tail", default="200", show_default=True, help="Lines per container (or `all`).")
@click.argument("services", nargs=-1)
def logs(project: str | None, follow: bool, tail: str, services: tuple[str, ...]) -> None:
    """Logs of the stack's containers (all, or the SERVICES named)."""
    from drills.stack.project import ComposeProject

    sp = ComposeProject.attach(_pick_project(project))
    args = ["logs", "--tail", tail, *(["--follow"] if follow else []), *services]
    try:
        sys.exit(sp.run_compose(*args, capture=False, timeout_s=10**9).returncode)
    except KeyboardInterrupt:
        sys.exit(130)


@stack.command()
@click.option("--project", default=None, help=PROJECT_HELP)
@click.option("--stack", "stack_path", default=None, type=click.Path(path_type=Path), help=STACK_HELP)
def down(project: str | None, stack_path: Path | None) -> None:
    """Remove the stack: every container, network and volume of the project."""
    from drills.core.errors import StackError
    from drills.provision import engine
    from drills.stack.project import ComposeProject
    from drills.stack.removal import remove_project

    name = _pick_project(project, stack_path)
    client = engine.client()
    try:
        removal = ComposeProject.attach(name, client=client).down()
    except StackError:  # no saved settings (a crashed run's stack): remove by label alone
        removal = remove_project(client, name)
    for line in removal.removed:
        click.echo(f"removed {line}")
    if removal.left:
        for leftover in removal.left:
            click.secho(f"error: {leftover}", fg="red", err=True)
        click.echo(f"{name} removed but for {len(removal.left)} object(s) above; its records are kept until "
                   f"they are gone (`drill stack down --project {name}` again after the commands above)", err=True)
        sys.exit(3)
    click.echo(f"{name} removed")
