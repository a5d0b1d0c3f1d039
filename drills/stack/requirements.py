"""What `drill doctor --stack` checks of a stack before anything starts: its Compose files resolve
(with the overrides), its roles name services that exist, every component has a service, and the
images its services run are here (or will be pulled, or built, where its Compose files say so);
and which of the machine's own checks concern it (`for_stack`): only the images of its
components, and a pulled image (MongoDB's) only where it has that component's role."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from drills.components.registry import pulled_images
from drills.core.errors import DrillsError
from drills.provision.checks import Check, CheckStatus
from drills.provision.pulled_image import check_name

if TYPE_CHECKING:
    import docker

    from drills.stack.definition import RoleMap, StackDefinition

BASE_IMAGE_CHECK = "base image"


def stack_checks(definition: StackDefinition, client: docker.DockerClient,
                 machine: Sequence[Check] = ()) -> list[Check]:
    """`machine`'s checks that concern this stack (`for_stack`), then the stack's own."""
    from drills.provision import base_image
    from drills.stack.project import ComposeProject

    files = " ".join(f"-f {f}" for f in definition.compose_files())
    checks = [Check("stack file", CheckStatus.OK, f"{definition.name} ({definition.path}): {files}")]
    try:
        # Created, never started: what Compose resolves, and the role map it yields.
        stack = ComposeProject.create(client=client, images={}, definition=definition)
        try:
            services = stack.config().get("services") or {}
        finally:
            stack.discard()  # never started: nothing of it stays on this machine
    except DrillsError as exc:
        return [*for_stack(machine, definition, None, ()),
                *checks, Check("stack roles", CheckStatus.MISSING, str(exc.args[0]), exc.hint or "fix the stack file")]
    roles = stack.settings.roles
    played = {role: found for role in roles.roles if (found := roles.members(role, services))}
    checks.append(Check("stack roles", CheckStatus.OK, "; ".join(f"{r}: {', '.join(s)}" for r, s in played.items())))
    checks += credential_checks(stack)
    for pulled in pulled_images():
        if why := stack.settings.not_run(pulled.profile):
            checks.append(Check(f"profile {pulled.profile}", CheckStatus.WARN,
                                f"left out: {why}; its roles are absent and the scenarios that need them NOT RUN",
                                "drill doctor (without --stack) says how to get the image"))
    checks = [*for_stack(machine, definition, roles, tuple(services)), *checks]
    if definition.spec.reference_images:
        return checks  # Drills builds those (the image checks above); their tags are set per run
    pull = definition.spec.compose.pull
    for name in sorted(services):
        checks.append(image_check(name, services[name] or {}, pull, lambda image: base_image.present(client, image)))
    return checks


def credential_checks(stack: Any) -> list[Check]:
    """Each password the stack file names, read now as a run would read it (a Compose secret, a
    file, Drills' environment); one from a running container's environment is read once it runs."""
    from drills.stack.credentials import credentials_in, located

    checks = []
    for ref in credentials_in(stack.definition.spec):
        where = located(stack.definition.spec, ref) or "a credential"
        if ref.container_env is not None:
            checks.append(Check(f"password {where.removeprefix('components.')}", CheckStatus.OK,
                                f"read from {ref.container_env.service}'s environment once it runs"))
            continue
        try:
            stack.credential(ref)
        except DrillsError as exc:
            checks.append(Check(f"password {where.removeprefix('components.')}", CheckStatus.MISSING, str(exc.args[0]),
                                exc.hint or "fix the stack file's credential"))
        else:
            checks.append(Check(f"password {where.removeprefix('components.')}", CheckStatus.OK, "readable"))
    return checks


def image_check(service: str, spec: Mapping[str, Any], pull: str, present: Any) -> Check:
    """The image of one service as Compose resolves it: here; built by Compose from its `build:`
    (never pulled: `drill stack up` builds it); pulled at start (`pull: missing`); or absent with
    the command that gets it."""
    name = f"image of {service}"
    image = str(spec.get("image") or "")
    build = spec.get("build")
    if build:
        context = str(build.get("context") or ".") if isinstance(build, Mapping) else str(build)
        if image and present(image):
            return Check(name, CheckStatus.OK, f"{image} (built from {context})")
        named = image or "its image"
        once = "" if image else "; name it (image:) so that it is built once, not for every run's project"
        return Check(name, CheckStatus.OK,
                     f"{named} not built yet: `drill stack up` (and `drill run`) builds it from {context}{once}")
    if not image:
        return Check(name, CheckStatus.MISSING, "no image and no build: Compose cannot start it",
                     "name its image (image:), or how to build it (build:), in the Compose file")
    if present(image):
        return Check(name, CheckStatus.OK, image)
    if pull == "missing":
        return Check(name, CheckStatus.WARN, f"{image} absent: `drill run` pulls it at start")
    return Check(name, CheckStatus.MISSING, f"{image} absent and the stack file says pull: never",
                 f"docker pull {image}")


def for_stack(machine: Sequence[Check], definition: StackDefinition, roles: RoleMap | None,
              services: Sequence[str]) -> list[Check]:
    """The machine's checks that concern this stack: Drills' reference images only for a stack
    that runs them, and of those only the ones its Compose files name (`DRILLS_IMAGE_<NAME>`);
    a pulled image (MongoDB's) only where the stack has its component's role (`roles`, read over every profile;
    None: not read, so kept) or names one in its file."""
    from drills.provision import images

    if not definition.spec.reference_images:
        kept = [c for c in machine if not c.name.startswith(("image ", BASE_IMAGE_CHECK))]
    else:
        texts = "\n".join(f.read_text() for f in definition.compose_files() if f.is_file())
        unused = {f"image {spec.name}" for spec in images.discover() if not re.search(rf"\b{spec.env_var}\b", texts)}
        kept = [c for c in machine if c.name not in unused]
    for pulled in pulled_images():
        named = pulled.kind in definition.declared_roles() or pulled.kind in definition.component_names()
        if roles is not None and not named and not roles.declares(pulled.kind, services):
            kept = [c for c in kept if c.name != check_name(pulled)]
    return kept
