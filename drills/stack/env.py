"""What a Compose project of a stack is given: its name, subnet, images, ports and secrets.

Pure: nothing here talks to Docker. `compose_env` is the single place that turns a project's
settings into the variables its Compose files read (the reference stack's `docker-compose.ha.yml`
reads them all; a stack of yours reads those it needs).
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields

from drills.core.errors import StackError
from drills.stack.definition import GeneratedVariable, RoleMap, StackDefinition

MONGO_PROFILE = "mongo"
PROJECT_PREFIX = "drills-"  # every project Drills names starts so: how `drill clean` tells ours


def new_project_name(token: str | None = None) -> str:
    """`drills-<short id>`: unique per run, and what `drill clean` recognises as ours."""
    return PROJECT_PREFIX + (token if token is not None else secrets.token_hex(3))


def net_prefix(subnet: ipaddress.IPv4Network) -> str:
    """`172.30.7` for 172.30.7.0/24: the compose file appends each member's fixed host number."""
    if subnet.prefixlen != 24:
        raise StackError(f"the stack network must be a /24, not {subnet}")
    return str(subnet.network_address).rsplit(".", 1)[0]


@dataclass(frozen=True)
class Secrets:
    """Credentials generated per run. Hex only: safe in YAML, URLs, RabbitMQ's config format and
    a MongoDB key file (whose alphabet is base64's) without any quoting."""

    pg_superuser_password: str
    pg_replication_password: str
    app_password: str
    rabbitmq_cookie: str
    mongo_root_password: str
    mongo_keyfile: str

    @classmethod
    def generate(cls) -> Secrets:
        return cls(
            pg_superuser_password=secrets.token_hex(16),
            pg_replication_password=secrets.token_hex(16),
            app_password=secrets.token_hex(16),
            rabbitmq_cookie=secrets.token_hex(20),
            mongo_root_password=secrets.token_hex(16),
            mongo_keyfile=secrets.token_hex(48),
        )

    def env(self) -> dict[str, str]:
        return {
            "DRILLS_PG_SUPERUSER_PASSWORD": self.pg_superuser_password,
            "DRILLS_PG_REPLICATION_PASSWORD": self.pg_replication_password,
            "DRILLS_APP_PASSWORD": self.app_password,
            "DRILLS_RABBITMQ_COOKIE": self.rabbitmq_cookie,
            "DRILLS_MONGO_ROOT_PASSWORD": self.mongo_root_password,
            "DRILLS_MONGO_KEYFILE": self.mongo_keyfile,
        }

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Secrets:
        template = cls.generate().env()
        missing = [k for k in template if k not in env]
        if missing:
            raise StackError(f"stack settings lack {', '.join(missing)}")
        values = [env[k] for k in template]
        return cls(*values)

    def __repr__(self) -> str:  # never print a secret by accident (logs, tracebacks, reports)
        return "Secrets(" + ", ".join(f"{f.name}=***" for f in fields(self)) + ")"


@dataclass(frozen=True)
class Generated:
    """The stack file's own variables (`variables:`), generated per run and handed to Compose: the
    passwords a stack written without Drills reads as ${ITS_OWN_NAME}. Hex, like `Secrets`."""

    values: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def generate(cls, declared: Mapping[str, GeneratedVariable]) -> Generated:
        return cls({name: secrets.token_hex(spec.secret) for name, spec in declared.items()})

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
    mongo_image: str = "mongo:7"
    mongo_not_run: str = ""  # why MongoDB is left out ("" when the profile runs)
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
        """Why an optional profile was left out ("": it runs, or nobody said why); only MongoDB's
        reason is kept, under the name old settings have."""
        return self.mongo_not_run if profile == MONGO_PROFILE else ""


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
    env.update({
        "COMPOSE_PROJECT_NAME": settings.project,
        "DRILLS_SUBNET": str(settings.subnet),
        "DRILLS_NET_PREFIX": settings.net_prefix,
    })
    return env


def settings_to_json(settings: StackSettings) -> dict[str, object]:
    return {
        "project": settings.project,
        "subnet": str(settings.subnet),
        "images": dict(settings.images),
        "secrets": settings.secrets.env(),
        "profiles": list(settings.profiles),
        "mongo_image": settings.mongo_image,
        "mongo_not_run": settings.mongo_not_run,
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
        return StackSettings(
            project=str(data["project"]),
            subnet=ipaddress.IPv4Network(str(data["subnet"])),
            images={str(k): str(v) for k, v in images.items()},
            secrets=Secrets.from_env({str(k): str(v) for k, v in secrets_env.items()}),
            profiles=tuple(str(p) for p in profiles),
            mongo_image=str(data.get("mongo_image", "mongo:7")),
            mongo_not_run=str(data.get("mongo_not_run", "")),
            ports={str(k): int(v) for k, v in ports.items()},
            definition=StackDefinition.from_json(definition) if definition is not None else None,
            roles=RoleMap.from_json(roles),
            variables={str(k): str(v) for k, v in variables.items()},
            network=str(data.get("network") or ""),
            override=str(data.get("override") or ""),
            generated=Generated({str(k): str(v) for k, v in generated.items()}),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise StackError(f"unreadable stack settings: {exc}") from exc
