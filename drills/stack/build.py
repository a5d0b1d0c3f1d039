"""The images a stack's Compose files build (`build:`), built before its boot is timed.

Left to `compose up`, a build runs inside the boot: minutes of `apt-get` counted as the stack's
start (and its readiness times measured from it), under `up`'s own time limit. So the images that
are not here are built first, on their own, with a line saying so; a build that fails says so
with the end of its output, before anything starts.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

BUILD_TIMEOUT_S = 3600.0  # a first build from a slow mirror; a hung one still ends


def image_of(project: str, service: str, spec: Mapping[str, Any]) -> str:
    """The image a service runs: its `image:`, else the name Compose gives what it builds."""
    return str(spec.get("image") or f"{project}-{service}")


def to_build(model: Mapping[str, Any], project: str, profiles: Collection[str],
             present: Callable[[str], bool]) -> dict[str, str]:
    """service -> image, for each service of the running `profiles` that Compose builds and whose
    image is not `present` (the first service of each image: several members run one image);
    `model` may hold every profile's services."""
    wanted: dict[str, str] = {}
    for service, given in sorted((model.get("services") or {}).items()):
        spec: Mapping[str, Any] = given or {}
        if not spec.get("build"):
            continue
        if spec.get("profiles") and not set(spec["profiles"]) & set(profiles):
            continue  # in a profile left out: never started, so never built
        image = image_of(project, service, spec)
        if image not in wanted.values() and not present(image):
            wanted[service] = image
    return wanted
