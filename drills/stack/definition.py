"""A stack as data: what a stack file (`stacks/<name>/stack.yaml`) says about the system under test.

    compose files (Compose's own `-f base -f override` layering), the services that play each role
    (a `roles:` map, and/or the label `io.drills.role` on services), each component's adapter and
    what Drills uses of it (the database `postgres.write` writes to, the queue `rabbitmq.publish`
    publishes to, the balancer and its backend), the profiles that run only when their image is
    here, the images Drills builds, and the backup methods that apply.

The models are pure pydantic: `drills.files.stack_file` reads a file into them with every problem located
at file:line:col, and a saved stack (`drills.stack.state`) keeps the validated data to rebuild the
definition without the file. Nothing here talks to Docker.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, get_args

from pydantic import BaseModel, BeforeValidator, Field, StringConstraints, model_validator

from drills.components import _variables, registry
from drills.components._patroni_spec import PostgresSpec
from drills.components._postgres_spec import PostgresBase
from drills.components.base import AdapterSpec, BalancerSpec, Bound, Model, Name, Port, RoleName, credential_fields
from drills.core.errors import StackError

ROLE_LABEL = "io.drills.role"  # on a Compose service: the roles it plays, comma-separated
REFERENCE = "reference"  # the default stack: stacks/reference/stack.yaml

COMPONENTS = ("postgres", "etcd", "rabbitmq", "mongo", "http")
BACKUP_METHODS = ("postgres.dump", "postgres.snapshot", "rabbitmq.definitions", "mongo.dump")


class ComposeSpec(Model):
    """The Compose project: files (later ones override earlier ones, as `docker compose -f a -f b`)."""

    files: list[Annotated[str, StringConstraints(min_length=1, max_length=1024)]] = Field(
        min_length=1, description="Compose files, relative to the stack file; later ones override earlier ones.")
    network: Name | None = Field(
        None, description="The key of the Compose network the stack's services share (faults cut and slow it). "
                          "Unset: the one network the components' services share in the Compose model. A stack "
                          "whose network reads the variable it declares as `subnet` (under variables:) gets a free /24 "
                          "per run (one declared `net_prefix`: its first three octets); any other keeps Docker's "
                          "address pools.")
    pull: Literal["never", "missing"] = Field(
        "missing", description="`never`: every image must already be on this machine (built by `drill setup`); "
                               "`missing`: Compose pulls the images that are not here.")


class OptionalProfile(Model):
    """A Compose profile that runs only where its image is here (else its components are absent and
    scenarios that need them are NOT RUN)."""

    profile: Name
    needs_image: str = Field(description="The image the profile's services run; absent here -> profile left out.")
    image_variable: str | None = Field(
        None, description="The variable the Compose files read for that image's name (set to `needs_image`; a "
                          "site that runs its own image sets this variable in its environment instead).")
    variables_on: dict[str, str] = Field(default_factory=dict,
                                         description="Variables for the Compose files when the profile runs.")
    variables_off: dict[str, str] = Field(default_factory=dict,
                                          description="Variables for the Compose files when it is left out.")


class EtcdSpec(Model):
    """The consensus store Patroni keeps its leader key in."""

    adapter: Literal["etcd"]
    client_port: Port = 2379


class RabbitmqSpec(Model):
    """A RabbitMQ cluster."""

    adapter: Literal["rabbitmq"]
    amqp_port: Port = 5672
    management_port: Port = 15672
    user: Name = Field("app", description="The user Drills connects as; its password is "
                                          f"{_variables.name_of('app_password')}.")
    queues: list[Name] = Field(
        default_factory=list, description="The queues the stack (its application) declares: readiness waits for "
                                          "them; roles such as rabbitmq.leader@QUEUE may name only these.")
    signal_queue: Name | None = Field(
        None, description="The queue `rabbitmq.publish` publishes to and consumes from. One of `queues`: declared "
                          "by the stack, only checked passively by Drills. Unset: Drills declares its own quorum "
                          "queue `drill-events`.")
    leader_queue: Name | None = Field(
        None, description="The queue whose leader `rabbitmq.leader` (without @QUEUE) means; default the first "
                          "of `queues`.")

    @model_validator(mode="after")
    def _queues_known(self) -> RabbitmqSpec:
        for name, value in (("signal_queue", self.signal_queue), ("leader_queue", self.leader_queue)):
            if value is not None and value not in self.queues:
                raise ValueError(f"{name} {value!r} is not one of the stack's queues ({', '.join(self.queues)})")
        return self


class MongoSpec(Model):
    """A MongoDB replica set."""

    adapter: Literal["mongo"]
    port: Port = 27017
    database: Name = Field("app", description="The database `mongo.write` writes to.")
    replica_set: Name = "rs0"
    user: Name = "app"
    root_user: Name = "root"


class HttpSpec(Model):
    """Stateless HTTP services behind a load balancer."""

    adapter: Literal["haproxy"]
    balancer: Name = Field(description="The balancer's service.")
    port: Port = Field(8080, description="The balancer's HTTP port inside its container.")
    backend: Name = Field(description="The HAProxy backend whose servers are the instances behind it.")
    stats_path: str = Field("/lb-stats", description="HAProxy's stats page (read for the backends in rotation).")
    instances: RoleName = Field(description="The role of the instances behind the balancer (e.g. dashboard).")


# `components.http`, told by its `adapter:`: HAProxy's entry above (its adapter has not moved into
# drills.components yet), or the spec of a balancer adapter there. Code that needs what only
# HAProxy has (its stats page) asks `isinstance(http, HttpSpec)`; the rest uses BalancerSpec's fields.
BALANCER_SPECS: tuple[type[BaseModel], ...] = (
    HttpSpec, *(a.spec for a in registry.ADAPTERS.values() if a.kind == "balancer"))
BALANCER_ADAPTERS: tuple[str, ...] = tuple(str(get_args(m.model_fields["adapter"].annotation)[0])
                                           for m in BALANCER_SPECS)
if TYPE_CHECKING:
    Balancer = HttpSpec | BalancerSpec
else:
    Balancer = Annotated[Union[BALANCER_SPECS], Field(discriminator="adapter")]  # noqa: UP007


# `components.postgres`, told by its `adapter:` in the same way: Patroni's entry (its adapter has not
# moved into drills.components yet) or the spec of a PostgreSQL adapter there (repmgr). Code that
# needs what only Patroni has (its REST port, its keys) asks `StackDefinition.legacy_postgres()`; the rest
# uses PostgresBase's fields.
POSTGRES_SPECS: tuple[type[BaseModel], ...] = (
    PostgresSpec, *(a.spec for a in registry.ADAPTERS.values() if a.kind == "postgres"))
POSTGRES_ADAPTERS: tuple[str, ...] = tuple(str(get_args(m.model_fields["adapter"].annotation)[0])
                                           for m in POSTGRES_SPECS)
if TYPE_CHECKING:
    Postgres = PostgresSpec | PostgresBase
else:
    Postgres = Annotated[Union[POSTGRES_SPECS], Field(discriminator="adapter")]  # noqa: UP007


class Components(Model):
    postgres: Postgres | None = Field(None, description="The database with automatic failover; `adapter:` names "
                                                        "what manages its failover.")
    etcd: EtcdSpec | None = None
    rabbitmq: RabbitmqSpec | None = None
    mongo: MongoSpec | None = None
    http: Balancer | None = Field(None, description="Stateless HTTP services behind a load balancer; `adapter:` "
                                                    "names the balancer's software.")


VARIABLE = Annotated[str, StringConstraints(pattern=r"^[A-Z_][A-Z0-9_]*$", max_length=128)]


class AtField(ValueError):
    """A mistake found across fields, with the path of the field it is about (under the model that
    raised it): pydantic locates a model validator's error at the model itself, and `drill validate`
    must point at the line to fix (drills.files.stack_file reads `where`)."""

    def __init__(self, where: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.where = where


class GeneratedVariable(Model):
    """A variable Drills sets for the Compose files, fresh per run: a password the stack reads
    (`secret`, `{secret: N}`), or the run's /24 (`subnet`) or its first three octets (`net_prefix`)."""

    secret: Annotated[int, Field(ge=8, le=256)] = Field(16, description="Random bytes (written as hex).")
    kind: Literal["secret", "subnet", "net_prefix"] = Field(
        "secret", description="`secret`: random bytes as hex; `subnet`: the free /24 Drills picks per run "
                              "(172.30.7.0/24); `net_prefix`: its first three octets (172.30.7).")


def _shorthand(data: Any) -> Any:
    """`NAME: secret`, `NAME: subnet`, `NAME: net_prefix`: the kind alone."""
    return {"kind": data} if isinstance(data, str) else data


# A declaration under `variables:`: the kind alone, or the mapping (`{secret: 20}`).
Declared = Annotated[GeneratedVariable, BeforeValidator(
    _shorthand, json_schema_input_type=Union[Literal["secret", "subnet", "net_prefix"], GeneratedVariable])]  # noqa: UP007


def reference_variables() -> dict[str, GeneratedVariable]:
    """Drills' own variables (`drills.components._variables`): what a stack file that declares none
    of them gets, as stack files did before they declared them."""
    return {name: GeneratedVariable.model_validate(_shorthand(spec)) for name, spec in _variables.REFERENCE.items()}


class StackFile(Model):
    """A stack Drills can drill: its Compose files, which services play which role, and how Drills
    talks to each component."""

    stack: Name = Field(description="The stack's name (reports show it).")
    description: str = ""
    compose: ComposeSpec
    variables: dict[VARIABLE, Declared] = Field(
        default_factory=dict, description="Variables Drills generates per run and hands to Compose: `secret` or "
                                          "`{secret: N}` (e.g. a password the Compose files read as "
                                          "${ORDERS_DB_PASSWORD}; a credential names one as {generated: NAME}), "
                                          "`subnet` (a free /24 for the stack's network) or `net_prefix` (its first "
                                          "three octets). Names starting DRILLS_ are Drills' own: declare those the "
                                          "Compose files read (a file that declares none gets them all).")
    optional_profiles: list[OptionalProfile] = Field(default_factory=list)
    reference_images: bool = Field(
        False, description="The Compose files run Drills' reference images (drills/patroni, drills/rabbitmq, "
                           "drills/haproxy, drills/app): `drill setup` builds them and passes their tags as "
                           "DRILLS_IMAGE_* variables.")
    roles: dict[RoleName, list[Name]] = Field(
        default_factory=dict, description="role -> the services that play it. Services may also name their roles "
                                          "with the Compose label io.drills.role (comma-separated).")
    components: Components = Field(default_factory=Components)
    backups: list[Literal["postgres.dump", "postgres.snapshot", "rabbitmq.definitions", "mongo.dump"]] = Field(
        default_factory=list, description="The backup methods that apply to this stack.")
    readiness_timeout_s: Annotated[float, Field(gt=0, le=3600)] = Field(
        120.0, description="How long `drill stack up` and `drill run` wait for the stack to be ready when it starts.")

    @model_validator(mode="after")
    def _backups_have_components(self) -> StackFile:
        for i, method in enumerate(self.backups):
            component = method.partition(".")[0]
            if getattr(self.components, component) is None:
                raise AtField(("backups", i), f"backup method {method} needs the component {component} (under "
                                              "components:)")
        return self

    @model_validator(mode="after")
    def _generated_are_declared(self) -> StackFile:
        reference = reference_variables()
        unknown = [name for name in self.variables if name.startswith(_variables.PREFIX) and name not in reference]
        if unknown:
            raise AtField(("variables", unknown[0]), f"{', '.join(unknown)}: names starting {_variables.PREFIX} are "
                                                     f"Drills' own ({', '.join(reference)}); name the stack's "
                                                     "variables after the stack")
        for name, spec in self.variables.items():
            if name in reference and spec.kind != reference[name].kind:
                raise AtField(("variables", name), f"{name} is Drills' {reference[name].kind}, not a {spec.kind}: "
                                                   f"write `{name}: {_variables.written(name)}`")
        drills_own = self.drills_variables()
        for where, name in generated_names(self.components, ("components",)):
            if name in self.variables or name in drills_own:
                continue
            if name in reference:
                raise AtField(where, f"{name} is not one of the stack file's variables: add `variables: {{{name}: "
                                     f"{_variables.written(name)}}}` (Drills generates it per run and hands it to "
                                     "Compose)")
            if not name.startswith(_variables.PREFIX):  # one Drills never generates: drill validate says so
                raise AtField(where, f"{name} is not one of the stack file's variables: add `variables: {{{name}: "
                                     f"{{secret: 16}}}}` (Drills generates it per run and hands it to Compose)")
        return self

    def drills_variables(self) -> dict[str, GeneratedVariable]:
        """The variables of Drills' own (`drills.components._variables`) Drills generates for this
        stack: those the file declares, else (it declares none: it was written before) all of them."""
        declared = {name: spec for name, spec in self.variables.items() if name.startswith(_variables.PREFIX)}
        return declared or reference_variables()

    def own_variables(self) -> dict[str, GeneratedVariable]:
        """The stack's own variables (named after the stack), generated per run."""
        return {name: spec for name, spec in self.variables.items() if not name.startswith(_variables.PREFIX)}


def generated_names(spec: Any, where: tuple[str, ...]) -> list[tuple[tuple[str, ...], str]]:
    """(path, variable) of every `generated:` credential under `spec`; the path is the `generated`
    field's own."""
    return [((*where, *path, "generated"), ref.generated) for path, ref in credential_fields(spec)
            if ref.generated is not None]


@dataclass(frozen=True)
class StackDefinition:
    """A validated stack file and where it is (relative paths in it are relative to its folder)."""

    path: Path  # the stack file, absolute
    spec: StackFile
    overrides: tuple[Path, ...] = ()  # Compose override files given on the command line, absolute

    @property
    def name(self) -> str:
        return self.spec.stack

    def compose_files(self) -> tuple[Path, ...]:
        """Every Compose file in order: the stack's own, then the command line's overrides."""
        base = tuple((self.path.parent / f).resolve() for f in self.spec.compose.files)
        return (*base, *self.overrides)

    def declared_roles(self) -> dict[str, list[str]]:
        """The stack file's role map, with `http` meaning the balancer of its http component (what
        the http.* signals drive) unless the map says otherwise."""
        roles = {role: list(services) for role, services in self.spec.roles.items()}
        http = self.spec.components.http
        if http is not None:
            roles.setdefault("http", [http.balancer])
        return roles

    def component_names(self) -> tuple[str, ...]:
        return tuple(c for c in COMPONENTS if getattr(self.spec.components, c) is not None)

    # What the signals and backups use of a component: the stack file's, else the schema's defaults
    # (a stack whose roles alone say where the component runs).
    def postgres(self) -> PostgresSpec | PostgresBase:
        return self.spec.components.postgres or PostgresSpec(adapter="patroni")

    def postgres_adapter(self) -> str:
        """What manages the stack's PostgreSQL (`components.postgres.adapter`; patroni when unset)."""
        return self.postgres().adapter

    def bound(self) -> dict[str, Bound[Any]]:
        """The components whose adapter is in `drills.components` (key -> the entry with its
        adapter); those whose knowledge is still in drills.stack (Patroni, HAProxy, ...) are not."""
        found = {key: spec for key in COMPONENTS if isinstance(spec := getattr(self.spec.components, key), AdapterSpec)
                 and spec.adapter in registry.ADAPTERS}
        return registry.bind(found)

    def postgres_bound(self) -> Bound[Any] | None:
        """The stack's PostgreSQL with its adapter of `drills.components`, where one manages it (not
        Patroni, whose path is still in drills.stack); None for Patroni or no PostgreSQL entry."""
        return self.bound().get("postgres")

    def legacy_postgres(self) -> PostgresSpec:
        """The entry whose knowledge is still in drills.stack (Patroni's: its REST port, its keys):
        what only that path reads. A stack whose adapter is in drills.components never reaches that
        path; a caller that does is told so."""
        pg = self.postgres()
        if not isinstance(pg, PostgresSpec):
            raise StackError(f"components.postgres is adapter {pg.adapter}: this path reads another manager's API",
                             hint="the caller must ask the stack's adapter (drills.components.registry)")
        return pg

    def rabbitmq(self) -> RabbitmqSpec:
        return self.spec.components.rabbitmq or RabbitmqSpec(adapter="rabbitmq")

    def mongo(self) -> MongoSpec:
        return self.spec.components.mongo or MongoSpec(adapter="mongo")

    def record(self, roles: RoleMap | None, lacks: Iterable[str] = ()) -> dict[str, Any]:
        """The stack as a run's journal names it (`environment.stack`): what was drilled, so a report
        can say it. `roles`: who plays each role (None: not read, the stack was never opened);
        `lacks`: the roles the scenario needed that the stack has in none of its profiles."""
        return {"name": self.name, "file": str(self.path), "overrides": [str(p) for p in self.overrides],
                "components": list(self.component_names()),
                "roles": None if roles is None else roles.to_json(), "lacks": sorted(set(lacks)),
                "access": self.access(roles)}

    def named_roles(self) -> dict[str, str]:
        """The roles the components' entries name (where in the stack file -> role): each must be
        played by a service, which `ComposeProject.read_roles` checks before anything starts."""
        pg = self.spec.components.postgres
        return {"components.postgres.access.through": pg.access.through} if pg and pg.access else {}

    def access(self, roles: RoleMap | None) -> dict[str, Any]:
        """The path the database signals (postgres.write, postgres.read) take, as a journal records
        it: through the proxy the stack file names (`access`), else to every member; the services
        from `roles` (None: the stack was never opened)."""
        pg = self.spec.components.postgres
        if pg is None and (roles is None or "postgres" not in roles.roles):
            return {}
        pg = self.postgres()
        through, port = (pg.access.through, pg.access.port) if pg.access else (None, pg.sql_port)
        group = through or "postgres"
        # A role, else (the grammar of drills.core.roles) a service by its name.
        services = None if roles is None else list(roles.roles.get(group, (group,)))
        return {"postgres": {"through": through, "services": services, "port": port}}

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "spec": self.spec.model_dump(mode="json"),
                "overrides": [str(p) for p in self.overrides]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StackDefinition:
        return cls(Path(str(data["path"])), StackFile.model_validate(data["spec"]),
                   tuple(Path(str(p)) for p in data.get("overrides", [])))


def _order(name: str) -> tuple[str, int]:
    """pg2 < pg10: by stem, then by number."""
    stem = name.rstrip("0123456789")
    digits = name[len(stem):]
    return stem, int(digits) if digits else -1


@dataclass(frozen=True)
class RoleMap:
    """role -> services, from the stack file's `roles:` and the services' io.drills.role labels.

    A group a scenario names is a role of the map, else one service by its name, else the services
    named `<group><n>` (`dashboard` -> dashboard1, dashboard2): the grammar of `drills.core.roles`."""

    roles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def build(cls, declared: Mapping[str, list[str]], labels: Mapping[str, Mapping[str, str]]) -> RoleMap:
        """`declared`: the stack file's map; `labels`: service -> its Compose labels."""
        found: dict[str, set[str]] = {role: set(services) for role, services in declared.items()}
        for service, service_labels in labels.items():
            for role in (service_labels.get(ROLE_LABEL) or "").split(","):
                if role.strip():
                    found.setdefault(role.strip(), set()).add(service)
        return cls({role: tuple(sorted(services, key=_order)) for role, services in sorted(found.items())})

    def unknown_services(self, defined: set[str]) -> dict[str, list[str]]:
        """role -> services it names that Compose does not define."""
        return {role: missing for role, services in self.roles.items()
                if (missing := [s for s in services if s not in defined])}

    def members(self, group: str, services: Any) -> list[str]:
        """The services of `group` among `services` (names, or a mapping keyed by name)."""
        names = set(services)
        if group in self.roles:
            return [s for s in self.roles[group] if s in names]
        if group in names:
            return [group]
        stem = [n for n in names if n.startswith(group) and n[len(group):].isdigit() and n[len(group):].isascii()]
        return sorted(stem, key=_order)

    def declares(self, group: str, defined: Any) -> bool:
        """Whether the stack has `group` at all: among the services of its running profiles
        (`defined`), or of a profile left out (the map is read over every profile: MongoDB left out
        for want of its image still has its role)."""
        every = set(defined) | {s for services in self.roles.values() for s in services}
        return bool(self.members(group, every))

    def to_json(self) -> dict[str, list[str]]:
        return {role: list(services) for role, services in self.roles.items()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RoleMap:
        return cls({str(role): tuple(str(s) for s in services) for role, services in data.items()})


def order(names: Any) -> list[str]:
    return sorted(set(names), key=_order)
