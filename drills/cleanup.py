"""`drill clean`: heal what a dead runner left applied, then remove its containers, networks, volumes.

Only resources carrying Compose's project label of a `drills-*` project, or our own
`io.drills.managed=true` label, are ever touched. By default only projects whose owner process is
gone are removed (a `drill stack up` stack is kept until `drill stack down`); `--all` removes every
Drills project.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

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
    errors: list[str] = field(default_factory=list)


def labelled_projects(client: docker.DockerClient) -> set[str]:
    found: set[str] = set()
    for c in client.containers.list(all=True, filters={"label": heal.PROJECT_LABEL}, ignore_removed=True):
        found.add(c.labels[heal.PROJECT_LABEL])
    for n in client.networks.list(filters={"label": heal.PROJECT_LABEL}):
        found.add(n.attrs["Labels"][heal.PROJECT_LABEL])
    for v in client.volumes.list(filters={"label": heal.PROJECT_LABEL}):
        found.add(v.attrs["Labels"][heal.PROJECT_LABEL])
    return {p for p in found if p.startswith(PROJECT_PREFIX)}


def remove_project(client: docker.DockerClient, project: str) -> list[str]:
    """Remove every container, network and volume labelled with `project`."""
    import docker.errors

    removed = []
    selector: dict[str, str | list[str] | bool] = {"label": f"{heal.PROJECT_LABEL}={project}"}
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
    ledger.forget(project)
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
    report = CleanReport()
    owners = {o.project: o for o in ledger.owners()}
    candidates = labelled_projects(client) | set(owners)
    for project in sorted(candidates):
        if only is not None and project != only:
            continue
        owner = owners.get(project)
        alive = owner is not None and ledger.pid_alive(owner.pid)
        keep = not everything and only is None and owner is not None and (alive or owner.kind == "stack")
        try:
            # A live runner heals its own faults; only orphans are healed here.
            if not alive:
                report.healed += [f"{project}: {h}" for h in heal.heal_pending(client, project)]
            if keep:
                report.kept.append(project)
                continue
            report.removed += [f"{project}: {r}" for r in remove_project(client, project)]
        except Exception as exc:
            report.errors.append(f"{project}: {exc}")
    return report
