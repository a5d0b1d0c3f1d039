"""What a Compose project of a stack is given: its name, subnet, images, ports and secrets.

Pure: nothing here talks to Docker. `compose_env` is the single place that turns a project's
settings into the variables its Compose files read (the reference stack's `docker-compose.ha.yml`
reads them all; a stack of yours reads those it needs).
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from drills.components._variables import name_of as variable_of
from drills.components._variables import written
from drills.components.registry import pulled_images
from drills.core.errors import StackError
from drills.stack.definition import GeneratedVariable, RoleMap, StackDefinition, reference_variables

PROJECT_PREFIX = "drills-"  # every project Drills names starts so: how `drill clean` tells ours


def new_project_name(token: str | None = None) -> str:
    """`drills-<short id>`: unique per run, and what `drill clean` recognises as ours."""
    return PROJECT_PREFIX + (token if token is not None else secrets.token_hex(3))


def net_prefix(subnet: ipaddress.IPv4Network) -> str:
    """`172.30.7` for 172.30.7.0/24: the compose file appends each member's fixed host number."""
    if subnet.prefixlen != 24:
        raise StackError(f"the stack network must be a /24, not {subnet}")
    return str(subnet.network_address).rsplit(".", 1)[0]


class Secrets(Mapping[str, str]):
    """Drills' own secret variables for one run (name -> value): those the stack file declares
    (`StackDefinition.drills_variables`), the reference stack's passwords, cookie and key file.
    Hex only: safe in YAML, URLs, RabbitMQ's config format and a MongoDB key file (whose alphabet is
    base64's) without any quoting. Callers ask by the variable's name, or by attribute as the
    variable's name says it without its prefix (`secrets.app_password`)."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)

    @classmethod
    def generate(cls, declared: Mapping[str, GeneratedVariable] | None = None) -> Secrets:
        """Fresh values for the `secret` variables of `declared` (None: every one of Drills' own)."""
        declared = reference_variables() if declared is None else declared
        return cls({name: secrets.token_hex(spec.secret) for name, spec in declared.items() if spec.kind == "secret"})

    def env(self) -> dict[str, str]:
        return dict(self._values)

    @classmethod
    def from_env(cls, env: Mapping[str, str], declared: Mapping[str, GeneratedVariable] | None = None) -> Secrets:
        """The saved secrets of a run whose stack file declared `declared` (None: Drills' own)."""
        template = cls.generate(declared).env()
        missing = [k for k in template if k not in env]
        if missing:
            raise StackError(f"stack settings lack {', '.join(missing)}")
        return cls({k: env[k] for k in template})

    def __getitem__(self, name: str) -> str:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __getattr__(self, attribute: str) -> str:
        name = variable_of(attribute)
        if attribute.startswith("_") or name not in reference_variables():
            raise AttributeError(attribute)
        try:
            return self._values[name]
        except KeyError:
            raise StackError(f"this run has no {name}: its stack file does not declare it under variables:",
                             hint=f"add `{name}: {written(name)}` to the stack file's variables: (Drills generates "
                                  "it per run and hands it to Compose)") from None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secrets) and self._values == other._values

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._values.items())))

    def __repr__(self) -> str:  # never print a secret by accident (logs, tracebacks, reports)
        return "Secrets(" + ", ".join(f"{name}=***" for name in self._values) + ")"


@dataclass(frozen=True)
class Generated:
    """The stack file's own variables (`variables:`, named after the stack), generated per run and
    handed to Compose: the passwords a stack written without Drills reads as ${ITS_OWN_NAME}. Hex,
    like `Secrets`. Its `subnet` and `net_prefix` variables are the run's subnet (`compose_env`)."""

    values: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def generate(cls, declared: Mapping[str, GeneratedVariable]) -> Generated:
        return cls({name: secrets.token_hex(spec.secret) for name, spec in declared.items() if spec.kind == "secret"})

    def __repr__(self) -> str:  # as Secrets: the names say what there is, never the values
        return "Generated(" + ", ".join(f"{name}=***" for name in sorted(self.values)) + ")"


@dataclass(frozen=True)
class StackSettings:
    """Everything that distinguishes one run's stack from another's."""

    project: str
    subnet: ipaddress.IPv4Network
    images: Mapping[str, str]  # DRILLS_IMAGE_* -> tag
    secrets: Secrets
    profiles: tuple[str, ...] = ()
    # Per profile of a pulled image (`registry.pulled_images`): the image it runs where that is not
    # the image's reference (a site's own, handed to the Compose files), and why it is left out
    # (absent: it runs).
    pulled: Mapping[str, str] = field(default_factory=dict)
    left_out: Mapping[str, str] = field(default_factory=dict)
    ports: Mapping[str, int] = field(default_factory=dict)  # DRILLS_PORT_* -> host port (drills.stack.ports)
    # The stack file drilled (with the command line's overrides) and who plays which role in it;
    # None only for settings made by hand in tests, which then name roles by service-name stems.
    definition: StackDefinition | None = None
    roles: RoleMap = field(default_factory=RoleMap)
    variables: Mapping[str, str] = field(default_factory=dict)  # set for the optional profiles that run (or not)
    network: str = ""  # the engine's name of the stack's network ("": saved before it was read from the model)
    override: str = ""  # Drills' Compose override (drills.stack.override; "": it adds nothing)
    generated: Generated = field(default_factory=Generated)  # the stack file's `variables:`, this run's values

    @property
    def net_prefix(self) -> str:
        return net_prefix(self.subnet)

    def gateway_ip(self) -> str:
        return f"{self.net_prefix}.1"

    def not_run(self, profile: str) -> str:
        """Why an optional profile was left out ("": it runs, or nobody said why); only the reasons
        of the pulled images' profiles are kept."""
        return self.left_out.get(profile, "")

    def pulled_image(self, profile: str) -> str:
        """The image a pulled component's profile runs: as handed to the Compose files, else the
        image's reference (`mongo:7`)."""
        return self.pulled.get(profile) or next(p.reference for p in pulled_images() if p.profile == profile)


def compose_env(settings: StackSettings, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for `docker-compose`: `base` (the caller's, for DOCKER_HOST and PATH) with
    every variable the compose file reads set by us, so a stray DRILLS_* or COMPOSE_* variable in
    the user's shell cannot leak into a run."""
    env = {k: v for k, v in (base or {}).items()
           if not k.startswith(("DRILLS_", "COMPOSE_")) or k == "DRILLS_HOME"}
    env.update(settings.variables)
    env.update(settings.generated.values)
    env.update(settings.images)
    env.update({name: str(port) for name, port in settings.ports.items()})
    env.update(settings.secrets.env())
    env["COMPOSE_PROJECT_NAME"] = settings.project
    env.update(network_variables(settings))
    return env


def declared_variables(definition: StackDefinition | None) -> dict[str, GeneratedVariable]:
    """Every variable Drills generates for the stack file: Drills' own it uses, then the stack's
    (settings made by hand in tests, without a stack file, have Drills' own)."""
    if definition is None:
        return reference_variables()
    return {**definition.spec.drills_variables(), **definition.spec.own_variables()}


def network_variables(settings: StackSettings) -> dict[str, str]:
    """The declared variables that are the run's subnet (`subnet`) or its first three octets (`net_prefix`)."""
    values = {"subnet": str(settings.subnet), "net_prefix": settings.net_prefix}
    return {name: values[spec.kind] for name, spec in declared_variables(settings.definition).items()
            if spec.kind in values}


def own_images(images: Mapping[str, str]) -> dict[str, str]:
    """profile -> image, of those that are not the pulled image's reference (what `pulled` keeps)."""
    reference = {p.profile: p.reference for p in pulled_images()}
    return {profile: image for profile, image in images.items() if image != reference.get(profile)}


# A pulled image's profile in saved settings: `<profile>_image`, `<profile>_not_run` (the names
# settings have had since MongoDB's were the only ones).
def _image_key(profile: str) -> str:
    return f"{profile}_image"


def _not_run_key(profile: str) -> str:
    return f"{profile}_not_run"


def _pulled_json(settings: StackSettings, profile: str) -> dict[str, str]:
    return {_image_key(profile): settings.pulled_image(profile), _not_run_key(profile): settings.not_run(profile)}


def settings_to_json(settings: StackSettings) -> dict[str, object]:
    return {
        "project": settings.project,
        "subnet": str(settings.subnet),
        "images": dict(settings.images),
        "secrets": settings.secrets.env(),
        "profiles": list(settings.profiles),
        **{key: value for p in pulled_images() for key, value in _pulled_json(settings, p.profile).items()},
        "ports": dict(settings.ports),
        "definition": settings.definition.to_json() if settings.definition is not None else None,
        "roles": settings.roles.to_json(),
        "variables": dict(settings.variables),
        "network": settings.network,
        "override": settings.override,
        "generated": dict(settings.generated.values),
    }


def settings_from_json(data: Mapping[str, object]) -> StackSettings:
    try:
        images = data["images"]
        secrets_env = data["secrets"]
        profiles = data.get("profiles", [])
        ports = data.get("ports", {})
        definition, roles, variables = data.get("definition"), data.get("roles", {}), data.get("variables", {})
        generated = data.get("generated", {})  # absent from the settings saved before stack files had variables
        if not (isinstance(images, dict) and isinstance(secrets_env, dict) and isinstance(profiles, list)
                and isinstance(ports, dict) and isinstance(roles, dict) and isinstance(variables, dict)
                and isinstance(definition, dict | None) and isinstance(generated, dict)):
            raise TypeError("images, secrets, profiles, ports, roles, variables, generated or definition have the "
                            "wrong shape")
        stack = StackDefinition.from_json(definition) if definition is not None else None
        return StackSettings(
            project=str(data["project"]),
            subnet=ipaddress.IPv4Network(str(data["subnet"])),
            images={str(k): str(v) for k, v in images.items()},
            secrets=Secrets.from_env({str(k): str(v) for k, v in secrets_env.items()},
                                     None if stack is None else stack.spec.drills_variables()),
            profiles=tuple(str(p) for p in profiles),
            pulled=own_images({p.profile: str(data.get(_image_key(p.profile), p.reference)) for p in pulled_images()}),
            left_out={p.profile: why for p in pulled_images() if (why := str(data.get(_not_run_key(p.profile), "")))},
            ports={str(k): int(v) for k, v in ports.items()},
            definition=stack,
            roles=RoleMap.from_json(roles),
            variables={str(k): str(v) for k, v in variables.items()},
            network=str(data.get("network") or ""),
            override=str(data.get("override") or ""),
            generated=Generated({str(k): str(v) for k, v in generated.items()}),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise StackError(f"unreadable stack settings: {exc}") from exc
