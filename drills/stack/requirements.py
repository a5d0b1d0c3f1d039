"""What `drill doctor --stack` checks of a stack before anything starts: its Compose files resolve
(with the overrides), its roles name services that exist, every component has a service, and the
images its services run are here (or will be pulled, where its stack file allows it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from drills.core.errors import DrillsError
from drills.provision.checks import Check, CheckStatus

if TYPE_CHECKING:
    import docker

    from drills.stack.definition import StackDefinition


def stack_checks(definition: StackDefinition, client: docker.DockerClient) -> list[Check]:
    from drills.provision import base_image
    from drills.stack.project import ComposeProject

    files = " ".join(f"-f {f}" for f in definition.compose_files())
    checks = [Check("stack file", CheckStatus.OK, f"{definition.name} ({definition.path}): {files}")]
    try:
        # Created, never started: what Compose resolves, and the role map it yields.
        stack = ComposeProject.create(client=client, images={}, definition=definition)
        services = stack.config().get("services") or {}
    except DrillsError as exc:
        return [*checks, Check("stack roles", CheckStatus.MISSING, str(exc.args[0]), exc.hint or "fix the stack file")]
    roles = stack.settings.roles
    played = {role: found for role in roles.roles if (found := roles.members(role, services))}
    checks.append(Check("stack roles", CheckStatus.OK, "; ".join(f"{r}: {', '.join(s)}" for r, s in played.items())))
    if stack.settings.mongo_not_run:
        checks.append(Check("profile mongo", CheckStatus.WARN,
                            f"left out: {stack.settings.mongo_not_run}; its roles are "
                            "absent and the scenarios that need them NOT RUN",
                            "drill doctor (without --stack) says how to get the image"))
    if definition.spec.reference_images:
        return checks  # Drills builds those (the image checks above); their tags are set per run
    pull = definition.spec.compose.pull
    for name in sorted(services):
        image = str((services[name] or {}).get("image") or "")
        if not image:
            checks.append(Check(f"image of {name}", CheckStatus.MISSING,
                                "no image: Drills does not build a stack's images",
                                "build it (docker build -t NAME) and name it in the Compose file"))
        elif base_image.present(client, image):
            checks.append(Check(f"image of {name}", CheckStatus.OK, image))
        elif pull == "missing":
            checks.append(Check(f"image of {name}", CheckStatus.WARN, f"{image} absent: `drill run` pulls it at start"))
        else:
            checks.append(Check(f"image of {name}", CheckStatus.MISSING, f"{image} absent and the stack file says "
                                                                    "pull: never", f"docker pull {image}"))
    return checks
