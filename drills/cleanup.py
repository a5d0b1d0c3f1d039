"""`drill clean`: heal what a dead runner left applied, remove what it started, prune stale records.

Only resources carrying Compose's project label of a `drills-*` project, or our own
`io.drills.managed=true` label, are ever touched. What each form removes:

- a project whose runner is gone (a `drill run` that was killed): its faults are healed, then its
  containers, networks and volumes removed;
- a `drill stack up` stack: faults that a dead drill left on it are healed; the stack and its
  volumes are kept (removed only by `drill stack down`, or by `--all`);
- a project whose owner is alive: untouched (its runner heals and removes its own), unless `--all`;
- a record (owner, fault ledger, saved settings) of a project of which no container, network or
  volume is left: pruned, so nothing lists it as up.

`only` (`--project`) narrows all of this to one project; it never widens what is removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from drills import records
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
    owners = {o.project: o for o in records.owners()}
    existing = existing_projects(client)
    candidates = {p for p in existing if p.startswith(PROJECT_PREFIX)} | set(owners) | set(state.known())
    for project in sorted(candidates):
        if only is not None and project != only:
            continue
        owner = owners.get(project)
        alive = owner is not None and records.pid_alive(owner.pid)
        try:
            if project not in existing:
                if not alive:  # a live owner may be creating it right now
                    records.forget(project)
                    report.pruned.append(f"{project}: no container, network or volume of it is left")
                continue
            # A live runner heals its own faults: only those whose process is gone are healed here.
            orphaned = ledger.orphaned(project, owner_alive=alive)
            report.healed += [f"{project}: {h}" for h in heal.heal_entries(client, orphaned)]
            if owner is not None and not everything and (alive or owner.kind == "stack"):
                report.kept.append(f"{project}: {_why_kept(client, project, owner, alive)}")
                continue
            report.removed += [f"{project}: {r}" for r in remove_project(client, project)]
        except Exception as exc:
            report.errors.append(f"{project}: {exc}")
    return report


def _why_kept(client: docker.DockerClient, project: str, owner: records.Owner, alive: bool) -> str:
    if owner.kind == "stack":
        why = f"a `drill stack up` stack, kept with its volumes (`drill stack down --project {project}` removes it)"
        if not containers_per_project(client, project)[project]:
            why += f"; no container of it is left: `drill stack up --project {project}` brings it back"
        return why
    return f"its runner (pid {owner.pid}) is still running and removes it itself"
