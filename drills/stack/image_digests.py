"""The images a stack's containers run, by content: what a drill drilled, beyond the tags named.

    digests_of(containers) -> dict   service -> {"image", "id", "repo_digests"} from containers' inspect data
    image_digests(stack)             the same for a live stack; {"error": why} when the engine cannot say

A tag (`drills/patroni:2f24f841ae05aa40`, `postgres:15`) names an image that may be rebuilt or
re-pushed; the image ID (the SHA-256 of its configuration) and the registry digests name its
content. They go into the run's journal and, through it, into the signed manifest's provenance.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from drills.core.dockerlabels import SERVICE_LABEL, project_selector

if TYPE_CHECKING:
    import docker


def digests_of(containers: Iterable[Mapping[str, Any]],
               repo_digests: Callable[[str], list[str]] = lambda image_id: []) -> dict[str, dict[str, Any]]:
    """Service -> the image its container runs (one entry per service: replicas run one image)."""
    out: dict[str, dict[str, Any]] = {}
    for attrs in containers:
        config = attrs.get("Config") or {}
        service = str((config.get("Labels") or {}).get(SERVICE_LABEL) or attrs.get("Name", "?").lstrip("/"))
        image_id = str(attrs.get("Image") or "")
        if not image_id or service in out:
            continue
        out[service] = {"image": str(config.get("Image") or ""), "id": image_id,
                        "repo_digests": sorted(repo_digests(image_id))}
    return dict(sorted(out.items()))


class _Live(Protocol):
    @property
    def client(self) -> docker.DockerClient: ...

    @property
    def project(self) -> str: ...


def image_digests(stack: _Live) -> dict[str, Any]:
    """The stack's images by content; {"error": why} when the engine could not be asked (never a guess)."""
    def repo_digests(image_id: str) -> list[str]:
        try:
            return list(stack.client.images.get(image_id).attrs.get("RepoDigests") or [])
        except Exception:  # a digest is provenance, not a verdict: missing, it is said missing
            return []

    try:
        containers = stack.client.containers.list(all=True, filters=project_selector(stack.project),
                                                  ignore_removed=True)
        return digests_of((c.attrs for c in containers), repo_digests)
    except Exception as exc:  # no engine, a fake stack: the journal says so rather than failing the drill
        return {"error": f"the engine did not list the project's containers: {exc}"}
