"""The Docker labels Drills reads and writes, and what a container's labels and mounts say.

Every module that finds or creates containers (the stack, faults, backups, cleanup, provisioning)
spells the labels from here, so "a fault never touches anything without the run's label" rests on
one definition. It imports nothing of Drills but its errors: every layer can use it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drills.core.errors import FaultError

if TYPE_CHECKING:
    from docker.models.containers import Container

# Compose's own labels: which project (a drill's stack) and which service a container belongs to.
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
# Drills' labels: what it created itself (helpers, smoke tests, images), and what a container is for.
MANAGED_LABEL = "io.drills.managed"
ROLE_LABEL = "io.drills.role"
TIER_LABEL = "io.drills.tier"  # app | data: `clients` are the app tier
IMAGE_LABEL = "io.drills.image"  # on images Drills built: which fixture
PURPOSE_LABEL = "io.drills.purpose"  # on one-off containers outside any project (setup's smoke test)


def helper_labels(project: str, role: str | None = None) -> dict[str, str]:
    """Labels of a short-lived helper container Drills starts for `project`: marked as Drills' own,
    and as part of the project, so the project's cleanup removes it if a crash leaves it behind."""
    labels = {MANAGED_LABEL: "true", PROJECT_LABEL: project}
    if role is not None:
        labels[ROLE_LABEL] = role
    return labels


def project_selector(project: str) -> dict[str, str | list[str] | bool]:
    """A Docker API filter for everything of `project`."""
    return {"label": f"{PROJECT_LABEL}={project}"}


def require_owned(container: Container, project: str) -> Container:
    """The container itself, if it carries `project`'s label; refuses anything else."""
    if container.labels.get(PROJECT_LABEL) != project:
        raise FaultError(f"refusing to touch {container.name}: it does not carry the label {PROJECT_LABEL}={project}")
    return container


def service_of(container: Container) -> str:
    return str(container.labels[SERVICE_LABEL])


def volumes_of(container: Container) -> list[str]:
    """The named volumes mounted in the container (its disks)."""
    return [m["Name"] for m in container.attrs.get("Mounts", []) if m.get("Type") == "volume"]
