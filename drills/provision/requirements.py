"""A scenario's `requires:`: which image on this machine answers each entry, and which drills an
absent one leaves out (reported NOT RUN by `drill run`, listed by `drill doctor`).

`requires: [mongo:7]` names a component's pulled image (`pulled_image.Pulled`) by its reference. A
site that runs that component from its own image (a registry mirror, a hardened build) sets the
image's variable (`DRILLS_MONGO_IMAGE=registry.example/mongo:7`): that image then stands in for
the reference, answers the requirement, and the stack runs it. Any other entry is an image name
that must be present as written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from drills.provision.pulled_image import Pulled

StandIns = Mapping[str, str]  # a pulled image's reference -> the image that answers it here


def stand_ins(pulled: Iterable[Pulled]) -> dict[str, str]:
    """Each pulled image's reference -> the image that answers it here (its variable's, read now)."""
    return {p.reference: p.image() for p in pulled}


def image_for(requirement: str, stand_ins: StandIns) -> str:
    """The image that answers `requirement` here."""
    return stand_ins.get(requirement, requirement)


def describe(requirement: str, stand_ins: StandIns) -> str:
    """`mongo:7`, or `registry.example/mongo:7 (for mongo:7)` when another image stands for it."""
    image = image_for(requirement, stand_ins)
    return image if image == requirement else f"{image} (for {requirement})"


def unmet(requires: Iterable[str], present: Callable[[str], bool], stand_ins: StandIns) -> list[str]:
    """The requirements no image here answers, each once, in the scenario's order."""
    missing: list[str] = []
    for requirement in requires:
        if requirement not in missing and not present(image_for(requirement, stand_ins)):
            missing.append(requirement)
    return missing


def left_out(scenarios: Iterable[tuple[str, Sequence[str]]], present: Callable[[str], bool],
             stand_ins: StandIns) -> dict[str, list[str]]:
    """requirement -> the ids (sorted) of the scenarios it leaves out; only unmet requirements."""
    answers: dict[str, bool] = {}  # one image lookup per requirement, however many scenarios

    def here(image: str) -> bool:
        if image not in answers:
            answers[image] = present(image)
        return answers[image]

    out: dict[str, list[str]] = {}
    for scenario_id, requires in scenarios:
        for requirement in unmet(requires, here, stand_ins):
            out.setdefault(requirement, []).append(scenario_id)
    return {r: sorted(ids) for r, ids in out.items()}
