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
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar, Union

from pydantic import BaseModel, BeforeValidator, Field, StringConstraints, create_model, model_validator

from drills.components import _variables, registry
from drills.components.base import AdapterSpec, Bound, Model, Name, RoleName, credential_fields
from drills.core.errors import StackError
from drills.stack.located import AtField
from drills.stack.swarm_spec import SwarmSpec

ROLE_LABEL = "io.drills.role"  # on a Compose service: the roles it plays, comma-separated
REFERENCE = "reference"  # the default stack: stacks/reference/stack.yaml
T = TypeVar("T")


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


# The stack file's `components:` as the registry says it (`registry.STACK_ENTRIES`): each key holds
# an entry told by its `adapter:` (a tagged union where several specs may sit there: the legacy
# spec of the software whose adapter has not moved into drills.components yet, and the specs of the
# adapters of its kind). Code that needs what only one adapter has asks `StackDefinition.component`
# for that adapter's spec; the rest uses the fields every spec of the key has.
COMPONENTS: tuple[str, ...] = tuple(registry.STACK_ENTRIES)
BACKUP_METHODS: tuple[str, ...] = registry.backup_names()


def _entry_type(key: str) -> Any:
    specs = registry.entry_specs(key)
    if len(specs) == 1:
        return specs[0] | None
    return Annotated[Union[specs], Field(discriminator="adapter")] | None  # noqa: UP007


class ComponentEntries(Model):
    """The base of the `components:` model: its fields are built from the registry (`Components`)."""

    def get(self, key: str) -> BaseModel | None:
        """The entry under `key` (None: the file names none, or there is no such key)."""
        found = getattr(self, key, None) if key in type(self).model_fields else None
        return found if isinstance(found, BaseModel) else None

    def present(self) -> dict[str, BaseModel]:
        """key -> entry, for every key the file fills, in the schema's order."""
        return {key: found for key in type(self).model_fields if (found := self.get(key)) is not None}

    if TYPE_CHECKING:
        def __getattr__(self, key: str) -> Any: ...  # each key's entry (`components.http`), or None


if TYPE_CHECKING:
    Components = ComponentEntries
else:
    Components = create_model(
        "Components", __base__=ComponentEntries, __doc__=None,
        **{key: (_entry_type(key), Field(None, description=entry.description) if entry.description else None)
           for key, entry in registry.STACK_ENTRIES.items()})


if TYPE_CHECKING:
    BackupName = str
else:
    BackupName = Literal[BACKUP_METHODS]  # `<kind>.<method>`: the registry's


VARIABLE = Annotated[str, StringConstraints(pattern=r"^[A-Z_][A-Z0-9_]*$", max_length=128)]


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
        False, description=f"The Compose files run Drills' reference images ({', '.join(registry.REFERENCE_IMAGES)}): "
                           "`drill setup` builds them and passes their tags as DRILLS_IMAGE_* variables.")
    roles: dict[RoleName, list[Name]] = Field(
        default_factory=dict, description="role -> the services that play it. Services may also name their roles "
                                          "with the Compose label io.drills.role (comma-separated).")
    components: Components = Field(default_factory=Components)
    backups: list[BackupName] = Field(
        default_factory=list, description="The backup methods that apply to this stack.")
    readiness_timeout_s: Annotated[float, Field(gt=0, le=3600)] = Field(
        120.0, description="How long `drill stack up` and `drill run` wait for the stack to be ready when it starts.")
    backend: Literal["compose", "swarm"] = Field(
        "compose", description="`compose`: one Compose project on this machine's engine. `swarm`: `docker stack "
                               "deploy` across the nodes of a swarm (the `swarm:` section says where).")
    swarm: SwarmSpec | None = Field(None, description="With `backend: swarm`: the nodes and which service runs where.")

    @model_validator(mode="after")
    def _backend_has_its_section(self) -> StackFile:
        if self.backend == "swarm" and self.swarm is None:
            raise AtField(("backend",), "backend: swarm needs a swarm: section saying which node runs which service "
                                        "(swarm: {placement: {pg1: node-1, ...}})")
        if self.backend != "swarm" and self.swarm is not None:
            raise AtField(("swarm",), "swarm: applies to backend: swarm only; add `backend: swarm` or remove it")
        return self

    @model_validator(mode="after")
    def _backups_have_components(self) -> StackFile:
        for i, method in enumerate(self.backups):
            component = method.partition(".")[0]
            if self.components.get(component) is None:
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
        """The stack file's role map, with the roles its components play unless the map says
        otherwise (`http`: the balancer of its http component, what the http.* signals drive)."""
        roles = {role: list(services) for role, services in self.spec.roles.items()}
        for key, entry in self.spec.components.present().items():
            for role, services in registry.entry_roles(key, entry).items():
                roles.setdefault(role, list(services))
        return roles

    def component_names(self) -> tuple[str, ...]:
        return tuple(self.spec.components.present())

    def entry(self, key: str, model: type[T]) -> T | None:
        """The stack file's entry under `components.<key>` as `model` (an adapter's spec, or a base
        every spec of the key extends); None when the file names none. An entry of another adapter
        is a StackError: the caller reads what that adapter has not."""
        found = self.spec.components.get(key)
        if found is None or isinstance(found, model):
            return found
        raise StackError(f"components.{key} is adapter {getattr(found, 'adapter', '?')}: this path reads another "
                         "manager's API", hint="the caller must ask the stack's adapter (drills.components.registry)")

    def component(self, key: str, model: type[T]) -> T:
        """What the signals and backups use of `components.<key>`: the stack file's entry, else the
        schema's defaults for it (a stack whose roles alone say where the component runs)."""
        found = self.entry(key, model)
        if found is not None:
            return found
        default = registry.STACK_ENTRIES[key].default if key in registry.STACK_ENTRIES else None
        made = default() if default is not None else None
        if not isinstance(made, model):
            raise StackError(f"the stack file has no components.{key}", hint=f"add components.{key} to the stack file")
        return made

    def bound(self) -> dict[str, Bound[Any]]:
        """The components whose adapter is in `drills.components` (key -> the entry with its
        adapter); those whose knowledge is still in drills.stack (Patroni, HAProxy, ...) are not."""
        found = {key: spec for key, spec in self.spec.components.present().items()
                 if isinstance(spec, AdapterSpec) and spec.adapter in registry.ADAPTERS}
        return registry.bind(found)

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
        named = {}
        for key, entry in registry.STACK_ENTRIES.items():
            found = self.spec.components.get(key)
            if entry.access is not None and found is not None and (through := entry.access(found)[0]) is not None:
                named[f"components.{key}.access.through"] = through
        return named

    def access(self, roles: RoleMap | None) -> dict[str, Any]:
        """The path the signals of each component that records one (the database's: postgres.write,
        postgres.read) take, as a journal records it: through the proxy the stack file names
        (`access`), else to every member; the services from `roles` (None: the stack was never opened)."""
        paths = {}
        for key, entry in registry.STACK_ENTRIES.items():
            if entry.access is None:
                continue
            if self.spec.components.get(key) is None and (roles is None or key not in roles.roles):
                continue
            through, port = entry.access(self.component(key, BaseModel))
            group = through or key
            # A role, else (the grammar of drills.core.roles) a service by its name.
            services = None if roles is None else list(roles.roles.get(group, (group,)))
            paths[key] = {"through": through, "services": services, "port": port}
        return paths

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
