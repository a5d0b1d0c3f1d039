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

import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from drills.dockerlabels import PROJECT_LABEL, project_selector
from drills.faults import heal, ledger

if TYPE_CHECKING:
    import docker
    from docker.models.networks import Network

PROJECT_PREFIX = "drills-"


@dataclass
class CleanReport:
    healed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def labelled_projects(client: docker.DockerClient) -> set[str]:
    """Drills projects (`drills-*`) of which a container, network or volume exists."""
    return {p for p in existing_projects(client) if p.startswith(PROJECT_PREFIX)}


def existing_projects(client: docker.DockerClient) -> set[str]:
    """Every compose project of which a container, network or volume exists."""
    found: set[str] = set()
    # One listing call: `containers.list` inspects each container after listing, and one removed
    # in between (other runs share this engine) fails the whole cleanup with "No such container".
    for doc in client.api.containers(all=True, filters={"label": PROJECT_LABEL}):
        found.add(doc["Labels"][PROJECT_LABEL])
    for n in client.networks.list(filters={"label": PROJECT_LABEL}):
        found.add(n.attrs["Labels"][PROJECT_LABEL])
    for v in client.volumes.list(filters={"label": PROJECT_LABEL}):
        found.add(v.attrs["Labels"][PROJECT_LABEL])
    return found


def forget_records(project: str) -> None:
    """Drop what this machine remembers of a project: its owner, fault ledger and saved settings."""
    from drills.stack import state  # drills.stack imports this module

    ledger.forget(project)
    state.forget(project)


def remove_project(client: docker.DockerClient, project: str) -> list[str]:
    """Remove every container, network and volume labelled with `project`."""
    import docker.errors

    removed = []
    selector = project_selector(project)
    for c in client.containers.list(all=True, filters=selector, ignore_removed=True):
        c.remove(force=True)  # a paused container is removed too (SIGKILL, then delete)
        removed.append(f"container {c.name}")
    for n in client.networks.list(filters=selector):
        if _remove_network(n):
            removed.append(f"network {n.name}")
    for v in client.volumes.list(filters=selector):
        try:
            v.remove(force=True)
            removed.append(f"volume {v.name}")
        except docker.errors.NotFound:
            pass
    forget_records(project)
    return removed


def _remove_network(network: Network, attempts: int = 10, pause_s: float = 0.5) -> bool:
    """Remove a network, detaching what is still attached. Right after its containers are removed,
    the engine may still hold their endpoints for a moment ("has active endpoints", measured once
    in CI on Docker 20.10): detach them by force and try again. False when it was already gone."""
    import docker.errors

    for attempt in range(attempts):
        try:
            network.remove()
            return True
        except docker.errors.NotFound:
            return False
        except docker.errors.APIError as exc:
            if "active endpoints" not in str(exc):
                raise
            if attempt + 1 == attempts:
                from drills.errors import StackError

                raise StackError(f"network {network.name} keeps endpoints of containers that are gone",
                                 hint="restart the Docker daemon (a stale endpoint of Docker 20.10), then "
                                      "`drill clean` again") from exc
        with contextlib.suppress(docker.errors.APIError):
            network.reload()
            for endpoint in (network.attrs.get("Containers") or {}):
                with contextlib.suppress(docker.errors.APIError):
                    network.disconnect(endpoint, force=True)
        time.sleep(pause_s)
    return False


def clean(client: docker.DockerClient, *, everything: bool = False, only: str | None = None) -> CleanReport:
    """Heal, remove and prune as the module's docstring says; `only` narrows it to one project."""
    from drills.stack import state

    report = CleanReport()
    owners = {o.project: o for o in ledger.owners()}
    existing = existing_projects(client)
    candidates = {p for p in existing if p.startswith(PROJECT_PREFIX)} | set(owners) | set(state.known())
    for project in sorted(candidates):
        if only is not None and project != only:
            continue
        owner = owners.get(project)
        alive = owner is not None and ledger.pid_alive(owner.pid)
        try:
            if project not in existing:
                if not alive:  # a live owner may be creating it right now
                    forget_records(project)
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


def _why_kept(client: docker.DockerClient, project: str, owner: ledger.Owner, alive: bool) -> str:
    if owner.kind == "stack":
        from drills.stack.presence import containers_per_project

        why = f"a `drill stack up` stack, kept with its volumes (`drill stack down --project {project}` removes it)"
        if not containers_per_project(client, project)[project]:
            why += f"; no container of it is left: `drill stack up --project {project}` brings it back"
        return why
    return f"its runner (pid {owner.pid}) is still running and removes it itself"
