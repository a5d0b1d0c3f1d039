"""A scenario's `requires:`: which image on this machine answers each entry, and which drills an
absent one leaves out (reported NOT RUN by `drill run`, listed by `drill doctor`).

`requires: [mongo:7]` names the official MongoDB image. A site that runs MongoDB from its own image
(a registry mirror, a hardened build) sets `DRILLS_MONGO_IMAGE`, e.g. `registry.example/mongo:7`:
that image then answers the requirement, and the stack runs it. Any other entry is an image name
that must be present as written.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence

MONGO = "mongo:7"
MONGO_IMAGE = os.environ.get("DRILLS_MONGO_IMAGE", "").strip() or MONGO


def image_for(requirement: str, mongo_image: str = MONGO_IMAGE) -> str:
    """The image that answers `requirement` here."""
    return mongo_image if requirement == MONGO else requirement


def describe(requirement: str, mongo_image: str = MONGO_IMAGE) -> str:
    """`mongo:7`, or `registry.example/mongo:7 (for mongo:7)` when another image stands for it."""
    image = image_for(requirement, mongo_image)
    return image if image == requirement else f"{image} (for {requirement})"


def unmet(requires: Iterable[str], present: Callable[[str], bool], mongo_image: str = MONGO_IMAGE) -> list[str]:
    """The requirements no image here answers, each once, in the scenario's order."""
    missing: list[str] = []
    for requirement in requires:
        if requirement not in missing and not present(image_for(requirement, mongo_image)):
            missing.append(requirement)
    return missing


def left_out(scenarios: Iterable[tuple[str, Sequence[str]]], present: Callable[[str], bool],
             mongo_image: str = MONGO_IMAGE) -> dict[str, list[str]]:
    """requirement -> the ids (sorted) of the scenarios it leaves out; only unmet requirements."""
    answers: dict[str, bool] = {}  # one image lookup per requirement, however many scenarios

    def here(image: str) -> bool:
        if image not in answers:
            answers[image] = present(image)
        return answers[image]

    out: dict[str, list[str]] = {}
    for scenario_id, requires in scenarios:
        for requirement in unmet(requires, here, mongo_image):
            out.setdefault(requirement, []).append(scenario_id)
    return {r: sorted(ids) for r, ids in out.items()}

