"""Is a saved stack still there? Its services as Compose defines them against the containers that
exist, so a command can say at once what is missing and how to bring it back, instead of waiting
for a readiness that cannot come.

A saved record (`drills.stack.state`) outlives its containers when they are removed behind
Drills' back (`docker rm`, a cleanup): such a stack is *gone* (no container, network or volume
left: its record is stale) or *incomplete* (some services have no container).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from drills.core.dockerlabels import PROJECT_LABEL, SERVICE_LABEL
from drills.core.errors import StackError
from drills.stack.definition import COMPONENTS, RoleMap

if TYPE_CHECKING:
    import docker

    from drills.stack.project import ComposeProject

@dataclass(frozen=True)
class Presence:
    project: str
    expected: tuple[str, ...]  # the services Compose defines for the stack's profiles
    missing: tuple[str, ...]  # those without a container (running or not)

    @property
    def complete(self) -> bool:
        return not self.missing

    def problem(self) -> StackError:
        """What to tell a user who wants to use this stack as it is."""
        n, total = len(self.missing), len(self.expected)
        which = f"none of its {total} services has a container" if n == total else \
            f"{n} of its {total} services have no container"
        return StackError(
            f"stack {self.project}: {which}: {', '.join(self.missing)}",
            hint=f"`drill stack up --project {self.project}` brings the missing ones back with the stack's saved "
                 f"settings and keeps its volumes; `drill stack down --project {self.project}` removes what is "
                 "left, volumes included")


def expected_services(stack: ComposeProject) -> tuple[str, ...]:
    """Compose's own list for the stack's file and profiles (`config --services`, ~0.1 s)."""
    return stack.defined_services()


def presence(stack: ComposeProject) -> Presence:
    expected = expected_services(stack)
    present = set(stack.snapshot())
    return Presence(stack.project, expected, tuple(s for s in expected if s not in present))


def require_complete(project: str, client: docker.DockerClient | None = None) -> Presence:
    """Raise (exit 3) naming the missing services and the fix when `project`'s saved stack has
    services without a container; unknown projects are refused by `state.load` with its own fix."""
    from drills.stack.project import ComposeProject

    found = presence(ComposeProject.attach(project, client))
    if not found.complete:
        raise found.problem()
    return found


def components_of(roles: Iterable[str]) -> set[str]:
    """The components (postgres, etcd, rabbitmq, mongo, http) that roles or signal names
    (`mongo.primary`, `postgres.write`, `rabbitmq.*`, `http.dashboard`) belong to."""
    groups = (re.split(r"[.\[]", role.strip(), maxsplit=1)[0] for role in roles)
    return {g for g in groups if g in COMPONENTS}


def absent_components(needed: Iterable[str], services: Iterable[str], roles: RoleMap) -> list[str]:
    """The components among `needed` of which the stack defines no service at all (left out when it
    was brought up, e.g. MongoDB without its image): a scenario that needs one cannot run on it.
    A defined service without a container is no such case: that stack is incomplete (exit 3)."""
    defined = list(services)
    return sorted(c for c in set(needed) if not roles.members(c, defined))


def containers_per_project(client: docker.DockerClient, project: str | None = None) -> Counter[str]:
    """How many containers (running or not) each compose project (or `project` alone) has, in one
    API call."""
    label = PROJECT_LABEL if project is None else f"{PROJECT_LABEL}={project}"
    docs = client.api.containers(all=True, filters={"label": label})
    return Counter(str((d.get("Labels") or {}).get(PROJECT_LABEL)) for d in docs)


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


def left_behind(client: docker.DockerClient, project: str) -> str:
    """What of `project` exists (said when a command gives up on it half-way): its containers by
    state, its networks and volumes, and the command that removes them."""
    label = {"label": f"{PROJECT_LABEL}={project}"}
    return describe_left(project, client.api.containers(all=True, filters=label),
                         [str(n.name) for n in client.networks.list(filters=label)],
                         [str(v.name) for v in client.volumes.list(filters=label)])


def describe_left(project: str, containers: Iterable[Mapping[str, Any]], networks: Iterable[str],
                  volumes: Iterable[str]) -> str:
    """One line: `containers` as the engine lists them (`Labels`, `State`, `Names`), by state."""
    by_state: dict[str, list[str]] = {}
    for doc in containers:
        labels = doc.get("Labels") or {}
        name = str(labels.get(SERVICE_LABEL) or next(iter(doc.get("Names") or []), "?")).lstrip("/")
        by_state.setdefault(str(doc.get("State") or "unknown"), []).append(name)
    nets, vols = sorted(networks), sorted(volumes)
    if not (by_state or nets or vols):
        return f"nothing of {project} is left (no container, network or volume)"
    parts = [f"{len(names)} {state} ({', '.join(sorted(names))})" for state, names in sorted(by_state.items())]
    parts += [f"network {', '.join(nets)}"] if nets else []
    parts += [f"{len(vols)} volume{'s' if len(vols) != 1 else ''}"] if vols else []
    what = "containers " + ", ".join(parts) if by_state else ", ".join(parts)
    return f"left running: {project}: {what}; `drill stack down --project {project}` removes it"
