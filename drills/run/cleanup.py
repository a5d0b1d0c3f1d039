"""`drill clean`: heal what a dead runner left applied, remove what it started, prune stale records.

Only resources carrying Compose's project label of a `drills-*` project, or our own
`io.drills.managed=true` label, are ever touched. Who made a project is read from this state
directory's records alone (`drills.core.local_state`): the engine is shared with other users and other
state directories, and a label says only that *some* Drills made it. What each form removes:

- a project whose record here says a `drill run` started it and whose runner is gone (killed): its
  faults are healed, then its containers, networks and volumes removed;
- a Drills project of which this state directory has no owner record: kept (another user's stack,
  or one started with another `XDG_STATE_HOME`); only `--all` removes it;
- a `drill stack up` stack: faults that a dead drill left on it are healed; the stack and its
  volumes are kept (removed only by `drill stack down`, or by `--all`);
- a project whose owner is alive: untouched (its runner heals and removes its own), unless `--all`;
- a record (owner, fault ledger, saved settings, Compose override) of a project of which no container, network or
  volume is left: pruned, so nothing lists it as up.

`only` (`--project`) narrows all of this to one project; it never widens what is removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from drills.core import local_state
from drills.faults import heal, ledger
from drills.stack import state
from drills.stack.env import PROJECT_PREFIX
from drills.stack.presence import containers_per_project, existing_projects
from drills.stack.removal import remove_project

if TYPE_CHECKING:
    import docker


@dataclass
class CleanReport:
    healed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def clean(client: docker.DockerClient, *, everything: bool = False, only: str | None = None) -> CleanReport:
    """Heal, remove and prune as the module's docstring says; `only` narrows it to one project."""
    report = CleanReport()
    owners = {o.project: o for o in local_state.owners()}
    existing = existing_projects(client)
    candidates = {p for p in existing if p.startswith(PROJECT_PREFIX)} | set(owners) | set(state.known()) \
        | set(state.overridden())  # a project created and never started leaves only its override
    for project in sorted(candidates):
        if only is not None and project != only:
            continue
        owner = owners.get(project)
        alive = owner is not None and local_state.pid_alive(owner.pid)
        try:
            if project not in existing:
                if not alive:  # a live owner may be creating it right now
                    local_state.forget(project)
                    report.pruned.append(f"{project}: no container, network or volume of it is left")
                continue
            # A live runner heals its own faults: only those whose process is gone are healed here.
            orphaned = ledger.orphaned(project, owner_alive=alive)
            report.healed += [f"{project}: {h}" for h in heal.heal_entries(client, orphaned)]
            fate = fate_of(owner, alive=alive, everything=everything)
            if fate == "unknown":
                report.kept.append(f"{project}: {unknown_here(project)}")
            elif fate == "keep":
                assert owner is not None
                report.kept.append(f"{project}: {_why_kept(client, project, owner, alive)}")
            else:
                removal = remove_project(client, project)
                report.removed += [f"{project}: {r}" for r in removal.removed]
                # What the engine refused stays, with its command; the project's records stay too,
                # so the next `drill clean` tries again.
                report.errors += [f"{project}: {leftover}" for leftover in removal.left]
        except Exception as exc:
            report.errors.append(f"{project}: {exc}")
    return report


def fate_of(owner: local_state.Owner | None, *, alive: bool, everything: bool) -> Literal["remove", "keep", "unknown"]:
    """What cleanup does with an existing project: remove only what this state directory's record
    says a `drill run` started and whose runner is dead; `everything` (`--all`) removes all."""
    if everything:
        return "remove"
    if owner is None:
        return "unknown"
    return "remove" if owner.kind == "run" and not alive else "keep"


def unknown_here(project: str) -> str:
    """Why a project without an owner record here is kept, and what removes it."""
    return (f"unknown to this state dir ({local_state.state_dir()}), kept: no record here says a drill run started it "
            f"(another user's stack, or another XDG_STATE_HOME's); `drill stack down --project {project}` or "
            f"`drill clean --all --project {project}` removes it")


def _why_kept(client: docker.DockerClient, project: str, owner: local_state.Owner, alive: bool) -> str:
    if owner.kind == "stack":
        why = f"a `drill stack up` stack, kept with its volumes (`drill stack down --project {project}` removes it)"
        if not containers_per_project(client, project)[project]:
            why += f"; no container of it is left: `drill stack up --project {project}` brings it back"
        return why
    if not alive:
        return (f"its owner record here is of an unknown kind {owner.kind!r}: "
                f"`drill clean --all --project {project}` removes it")
    return f"its runner (pid {owner.pid}) is still running and removes it itself"
