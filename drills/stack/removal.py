"""Remove a compose project by its label: every container, network and volume, and its records.

Used by `drill stack down`, by a run tearing its own stack down, and by `drill clean`; only what
carries the project's label is touched.
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING

from drills import records
from drills.dockerlabels import project_selector

if TYPE_CHECKING:
    import docker
    from docker.models.networks import Network


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
    records.forget(project)
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
