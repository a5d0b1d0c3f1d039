"""Remove a compose project by its label: every container, network and volume, and its records.

Used by `drill stack down`, by a run tearing its own stack down, and by `drill clean`; only what
carries the project's label is touched. Teardown never raises because the engine refused
something: what could not be removed comes back as a `Leftover` with the command that removes it,
and the project's records are kept until nothing of it is left (so `drill clean` tries again).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from drills.core import local_state
from drills.core.dockerlabels import PROJECT_LABEL, project_selector

if TYPE_CHECKING:
    import docker
    from docker.models.networks import Network

# Docker lists an endpoint whose container it no longer knows (a stale endpoint, Docker 20.10) under
# "ep-<endpoint id>" instead of a container id; only the endpoint's name (the container's) reaches it.
STALE_PREFIX = "ep-"
NETWORK_ATTEMPTS = 10
NETWORK_PAUSE_S = 0.5


@dataclass(frozen=True)
class Leftover:
    """Something of a project the engine refused to remove, why, and the command that removes it."""

    what: str  # "network drills-1a2b3c_stack"
    why: str
    command: str  # "docker network rm drills-1a2b3c_stack"

    def __str__(self) -> str:
        return f"{self.what} is left ({self.why}): `{self.command}` removes it"


@dataclass
class Removal:
    """What a removal did: each object removed, and each one left behind."""

    removed: list[str] = field(default_factory=list)
    left: list[Leftover] = field(default_factory=list)

    def __iadd__(self, other: Removal) -> Removal:
        self.removed += other.removed
        self.left += other.left
        return self


def remove_project(client: docker.DockerClient, project: str) -> Removal:
    """Remove every container (with its anonymous volumes), network and volume labelled with
    `project`; its records are forgotten once nothing of it is left."""
    import docker.errors

    done = Removal()
    selector = project_selector(project)
    for c in client.containers.list(all=True, filters=selector, ignore_removed=True):
        try:
            # force: a paused container goes too (SIGKILL, then delete). v: the anonymous volumes an
            # image's VOLUME gave it, which carry no label and go with their container or never;
            # named volumes stay (the user's stack keeps them unless it is removed as a whole).
            c.remove(force=True, v=True)
            done.removed.append(f"container {c.name}")
        except docker.errors.NotFound:
            pass  # removed meanwhile
        except docker.errors.APIError as exc:
            done.left.append(Leftover(f"container {c.name}", _explanation(exc), f"docker rm -f -v {c.name}"))
    for n in client.networks.list(filters=selector):
        outcome = remove_network(n, project)
        if isinstance(outcome, Leftover):
            done.left.append(outcome)
        elif outcome == "removed":
            done.removed.append(f"network {n.name}")
    for v in client.volumes.list(filters=selector):
        try:
            v.remove(force=True)
            done.removed.append(f"volume {v.name}")
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            done.left.append(Leftover(f"volume {v.name}", _explanation(exc), f"docker volume rm {v.name}"))
    if not done.left:
        local_state.forget(project)
    return done


def remove_network(network: Network, project: str, *, attempts: int = NETWORK_ATTEMPTS,
                   pause_s: float | None = None, sleep: Callable[[float], None] | None = None,
                   ) -> Literal["removed", "gone"] | Leftover:
    """Remove a network of `project`, detaching by force what is still attached first: right after
    its containers are removed the engine may still hold their endpoints ("has active endpoints",
    measured on Docker 20.10), for a moment or for good (a stale endpoint). A container of another
    project still attached is never detached: the network is then left, and so reported."""
    import docker.errors

    why = ""
    for attempt in range(attempts):
        foreign = detach_all(network, project)
        try:
            network.remove()
            return "removed"
        except docker.errors.NotFound:
            return "gone"
        except docker.errors.APIError as exc:
            why = _explanation(exc)
            if foreign:  # waiting does not detach them: said at once, with what the user may run
                commands = [f"docker network disconnect -f {network.name} {n}" for n in foreign]
                return Leftover(f"network {network.name}", f"{why}; attached: {', '.join(foreign)}, not of {project}",
                                " && ".join([*commands, f"docker network rm {network.name}"]))
            if "active endpoints" not in str(exc):
                break  # another refusal: asking again does not change it
        if attempt + 1 < attempts:
            (sleep or time.sleep)(NETWORK_PAUSE_S if pause_s is None else pause_s)
    if "active endpoints" in why:
        why += ": an endpoint the engine keeps after its container is gone (Docker 20.10); if the command " \
               "says so again, restart the Docker daemon first"
    return Leftover(f"network {network.name}", why, f"docker network rm {network.name}")


def detach_all(network: Network, project: str) -> list[str]:
    """Force every endpoint of `project` off `network`: a container of the project by its id, a
    stale endpoint (no container any more) by its name. Returns the names of the containers still
    attached that are not the project's (left alone)."""
    import docker.errors

    try:
        network.reload()  # a listed network carries no endpoints; and they change
    except docker.errors.APIError:
        return []  # gone, or not readable: the removal says which
    foreign = []
    for key, endpoint in (network.attrs.get("Containers") or {}).items():
        name = str((endpoint or {}).get("Name") or key)
        owner = _owner(network, key)
        if owner is not None and owner != project:
            foreign.append(name)
            continue
        for handle in _handles(key, endpoint or {}):
            try:
                network.disconnect(handle, force=True)
                break
            except docker.errors.APIError:
                continue  # not by this handle (or already off): the next one, then removal says
    return foreign


def _handles(key: str, endpoint: Mapping[str, Any]) -> list[str]:
    """How to name an endpoint to `network disconnect --force`: a container's id, else its name
    (the engine deletes an endpoint whose container is gone by that name alone)."""
    name = str(endpoint.get("Name") or "")
    handles = [] if key.startswith(STALE_PREFIX) else [key]
    return [*handles, name] if name and name not in handles else handles


def _owner(network: Network, key: str) -> str | None:
    """The project label of the container behind an endpoint; None when no container is behind it
    (a stale endpoint, or one removed meanwhile), "" when it has no such label."""
    import docker.errors

    if key.startswith(STALE_PREFIX):
        return None
    if network.client is None:
        return None
    try:
        container = network.client.containers.get(key)
    except docker.errors.NotFound:
        return None
    except docker.errors.APIError:
        return ""  # whose it is cannot be read: left alone, as another's
    return str(container.labels.get(PROJECT_LABEL, ""))


def _explanation(exc: Exception) -> str:
    """The engine's own words, without docker-py's URL."""
    explanation = getattr(exc, "explanation", None)
    return str(explanation or exc).strip()


