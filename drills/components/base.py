"""The component protocol: what one adapter (PostgreSQL under Patroni, RabbitMQ, ...) declares, and
what it may use of a running stack.

A module of `drills.components` declaring `ADAPTER = Adapter(...)` is found by
`drills.components.registry`; the stack file's `components:` entries, readiness, dynamic roles,
status, the effective configuration and its facts, leader sampling, backups, the signals' access,
the system's log events and `drill doctor --stack` are to read the registry (plans/components.md).

An `Adapter` is a frozen dataclass of typed callables, as a `Fault`, a `Checker`, a `SignalKind` and
a `Sampling` are. Each optional capability is a field holding its own small dataclass (`Roles`,
`Leaders`, `Effective`, `BackupMethod`) or a callable, and an adapter that lacks one leaves it
`None` (Jepsen's `Kill`/`Pause`/`Primary`: a capability is there or not, never a flag beside it).

Adapters see a running stack only through `Live` (a Protocol: `drills.stack.project.ComposeProject`
is one), never through `drills.stack`, which sits above this package: so each adapter is testable
with a small stand-in. Whatever talks to the system (docker, psycopg, pika, pymongo) is imported
inside functions, so that reading the registry, as `drill validate` does, loads no driver.

    stack-file vocabulary   Model, Name, RoleName, Port; Credential (where a password is), Login;
                            AdapterSpec (a component's entry under `components:`), BalancerSpec
                            (what every HTTP balancer's entry says)
    a running stack         Node (one container), Stack (its Compose project), Live (what an
                            adapter may use of the stack)
    what adapters return    Reading, LogPattern, StatusView, Access, Taken, Restored, Requirement;
                            their inputs TakeContext, RestoreContext, ComposeModel
    capabilities            Roles, Leaders (+ LeaderRounds), Effective, BackupMethod
    the protocol            Adapter; Bound (an adapter with its stack-file entry)
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from drills.core.effective_config import Fact, Part
from drills.core.wait import Observation

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container

Endpoint = tuple[str, int]  # (host, port) as the host reaches it


# ---- the stack file's vocabulary ----------------------------------------------------------------


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=128)]
RoleName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]*$", max_length=64)]
Port = Annotated[int, Field(ge=1, le=65535)]


class ContainerEnv(Model):
    """A variable of a running service's container (what `docker inspect` shows under Config.Env)."""

    service: Name = Field(description="The Compose service whose container holds it.")
    variable: str = Field(description="The variable's name, e.g. PATRONI_SUPERUSER_PASSWORD.")


class Credential(Model):
    """Where a password is: exactly one source. Resolved by the stack when a drill needs it
    (`Live.credential`), never written to a record, and redacted from every log kept."""

    env: str | None = Field(None, description="A variable of Drills' environment at run time (the one the "
                                              "stack's Compose file reads).")
    file: str | None = Field(None, description="A file (relative to the stack file): its first line.")
    secret: str | None = Field(None, description="A Compose secret of the stack (top-level secrets:): read from "
                                                 "its file: or environment: source.")
    container_env: ContainerEnv | None = Field(None, description="A variable of a running service's environment.")
    generated: str | None = Field(None, description="One of the stack file's variables: Drills generates it per "
                                                    "run and hands it to Compose.")

    @model_validator(mode="after")
    def _exactly_one(self) -> Credential:
        given = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(given) != 1:
            sources = ", ".join(type(self).model_fields)
            said = f"it names {' and '.join(given)}" if given else "it names none"
            raise ValueError(f"a password comes from exactly one of {sources}; {said}")
        return self


class Login(Model):
    """A login Drills uses: the user, and where its password is."""

    user: Name = Field(description="The database user.")
    password: Credential = Field(description="Where its password is: one of env, file, secret, container_env, "
                                             "generated.")


def credential_fields(spec: Any, where: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Credential]]:
    """(its field's path, the credential) for every credential under `spec` (a model of the stack
    file), in field order: `(("postgres", "users", "app", "password"), Credential(...))`."""
    if isinstance(spec, Credential):
        return [(where, spec)]
    if not isinstance(spec, BaseModel):
        return []
    found: list[tuple[tuple[str, ...], Credential]] = []
    for name in type(spec).model_fields:
        value = getattr(spec, name)
        children = value.items() if isinstance(value, Mapping) else [("", value)]
        for key, child in children:
            found += credential_fields(child, (*where, name, *([str(key)] if key else [])))
    return found


class AdapterSpec(Model):
    """A component's entry under `components:`; each adapter's spec narrows `adapter` to its name
    (`adapter: Literal["patroni"]`), which is how an entry finds its adapter."""

    adapter: str


class BalancerSpec(AdapterSpec):
    """What every HTTP balancer's entry (`components.http`) says, whatever software balances: the
    service users reach, its port, and the role of the instances behind it (the http.* signals and
    `drill stack status` use these alone). A balancer adapter's spec extends it."""

    balancer: Name = Field(description="The balancer's service.")
    port: Port = Field(8080, description="The balancer's HTTP port inside its container.")
    instances: RoleName = Field(description="The role of the instances behind the balancer (e.g. dashboard).")


S = TypeVar("S", bound=AdapterSpec)


# ---- what an adapter may use of a running stack (drills.stack.project.ComposeProject is one) --------


class Node(Protocol):
    """One container as the engine lists it (`drills.stack.services.ServiceInfo` is one)."""

    @property
    def service(self) -> str: ...
    @property
    def container_id(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def ip(self) -> str | None: ...
    @property
    def ports(self) -> Mapping[int, int]: ...
    @property
    def labels(self) -> Mapping[str, str]: ...
    @property
    def image(self) -> str: ...
    @property
    def status(self) -> str:
        """Docker's text ("Up 5 seconds (healthy)", "Exited (0) 3 seconds ago")."""
        ...
    @property
    def exit_code(self) -> int | None: ...


class Stack(Protocol):
    """The Compose project of a running stack and its containers: what every view of it has (`Live`,
    the legacy backups' `_backup_tools.BackupLive`)."""

    @property
    def project(self) -> str: ...
    @property
    def client(self) -> docker.DockerClient: ...
    @property
    def network_name(self) -> str: ...
    def snapshot(self) -> Mapping[str, Node]: ...
    def defined_services(self) -> tuple[str, ...]: ...
    def containers(self, role: str) -> list[Container]:
        """The run's own containers holding `role` now (dynamic roles go through the registry)."""
        ...
    def compose(self, *args: str) -> None: ...
    def credential(self, ref: Credential) -> str: ...


class Live(Stack, Protocol):
    """What an adapter may use of a running stack."""

    def members(self, group: str, among: Iterable[str] | None = None) -> list[str]:
        """The services of a role group (the role map), among `among` (default: those with a container)."""
        ...
    def reach(self, service: str, port: int, snap: Mapping[str, Node] | None = None) -> Endpoint | None:
        """Where the host reaches `port` of `service` (the port Drills fixed for it, else the published one)."""
        ...
    def service_of_host(self, host: str, snap: Mapping[str, Node] | None = None) -> str | None:
        """The service a system calls `host` (an address, a hostname, an alias, a container id prefix)."""
        ...
    def component(self, key: str) -> Bound[Any] | None:
        """Another component of the stack (Patroni's DCS, a proxy's target)."""
        ...


# ---- what adapters return -------------------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    """Who leads one sampled thing now (services, sorted; none: nobody, or nobody could tell), and
    how it was learnt (recorded beside it: whom the sampler asked, who answered)."""

    leaders: list[str]
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LogPattern:
    """One message of a component's log that says what the system did (a promotion, a partition)."""

    software: str  # whose log it is: the SystemEvent's component
    kind: str  # promoted, demoted, lock-owner, ...
    regex: re.Pattern[str]
    subject: int = 0  # the group holding whom it is about (0: the node that logged it)
    repeat_s: float = 2.0  # the same event again within this is one event


@dataclass(frozen=True)
class StatusView:
    """One component in `drill stack status`: a table and the lines under it; `data` is what
    `--json` shows under the component's key."""

    title: str
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    notes: tuple[str, ...] = ()
    error: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Access:
    """Where and as whom clients connect, as the stack's applications do."""

    endpoints: tuple[Endpoint, ...]
    user: str
    password: str = field(repr=False)
    database: str | None = None
    via: str = ""  # "": every member; else the component clients go through (a proxy's key)
    options: Mapping[str, str] = field(default_factory=dict)  # replica set, queue, ...


@dataclass(frozen=True)
class TakeContext:
    backup_id: str
    directory: Path
    clock: Callable[[], float]


@dataclass(frozen=True)
class Taken:
    """A backup as its adapter took it: flat fields, from which the schedule builds its record."""

    point_s: float
    rows: int
    max_seq: int | None
    checksum: str
    source: str
    location: str
    size_bytes: int | None = None


@dataclass(frozen=True)
class RestoreContext:
    timeout_s: float
    clock: Callable[[], float]


@dataclass(frozen=True)
class Restored:
    rows: int
    max_seq: int | None
    checksum: str
    steps_s: Mapping[str, float]


@dataclass(frozen=True)
class Requirement:
    """One thing a stack must give its component, checked before anything starts (`drill validate`
    statically, `drill doctor --stack` with the engine, `--project` on a live stack)."""

    where: tuple[str | int, ...]  # path in the stack file (located at file:line:col), or ()
    ok: bool
    message: str
    fix: str = ""  # what to add, said as stack-file YAML
    level: Literal["error", "warning"] = "error"


@dataclass(frozen=True)
class ComposeModel:
    """What `docker compose config --format json` resolves, read without the engine: a requirement
    is checked against the stack as Compose will run it, overrides and variables applied."""

    raw: Mapping[str, Any]

    def services(self) -> tuple[str, ...]:
        return tuple(self.raw.get("services") or {})

    def _service(self, service: str) -> Mapping[str, Any]:
        found: Mapping[str, Any] = (self.raw.get("services") or {}).get(service) or {}
        return found

    def hostname(self, service: str) -> str | None:
        name = self._service(service).get("hostname")
        return str(name) if name else None

    def image(self, service: str) -> str | None:
        image = self._service(service).get("image")
        return str(image) if image else None

    def builds(self, service: str) -> bool:
        return bool(self._service(service).get("build"))

    def env_keys(self, service: str) -> frozenset[str]:
        # Compose resolves `environment:` to a map; a list (`- KEY=value`) in an unresolved file too.
        env = self._service(service).get("environment") or {}
        keys = env if isinstance(env, Mapping) else (str(item).partition("=")[0] for item in env)
        return frozenset(str(key) for key in keys)

    def published(self, service: str) -> frozenset[int]:
        """The container ports the service publishes on the host (whatever host port)."""
        ports = self._service(service).get("ports") or []
        return frozenset(int(p["target"]) for p in ports if isinstance(p, Mapping) and p.get("published"))

    def mount_targets(self, service: str) -> tuple[str, ...]:
        volumes = self._service(service).get("volumes") or []
        return tuple(str(v["target"]) for v in volumes if isinstance(v, Mapping) and v.get("target"))


# ---- capabilities ----------------------------------------------------------------------------------


def _no_qualifiers(spec: Any) -> tuple[str, ...]:
    return ()


def _no_default_qualifier(spec: Any) -> str | None:
    return None


@dataclass(frozen=True)
class Roles(Generic[S]):
    """The dynamic roles of a component's group (`postgres.leader`), asked of the live system."""

    selectors: frozenset[str]  # leader, replica | primary, secondary | leader, follower
    single: frozenset[str]  # those naming one node (explorations draw them first)
    # (spec, live, selector, qualifier, the group's services with a container) -> the services now;
    # a StackError when the system cannot say (no single leader). The index ([0]) is the stack's.
    resolve: Callable[[S, Live, str, str | None, Sequence[str]], list[str]]
    qualifier: str | None = None  # what `@X` names, when a selector takes one: "queue" (leader@QUEUE)
    qualifiers: Callable[[S], tuple[str, ...]] = _no_qualifiers  # the ones the stack declares
    default_qualifier: Callable[[S], str | None] = _no_default_qualifier


class LeaderRounds(Protocol):
    """A leader sampler's rounds, opened on a live stack: what the sampling loop calls."""

    every_s: float

    def read(self) -> Mapping[str, Reading]:
        """One round: subject -> who claims to lead it."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Leaders(Generic[S]):
    """Who leads, sampled through a drill. The subjects are the key (`postgres`) or, for leadership
    that is per qualifier, `key@qualifier` (`rabbitmq@drill-events`)."""

    open: Callable[[S, Live, Collection[str]], LeaderRounds]
    qualifier: str | None = None  # whose leadership is per queue (failover's `queue:`)


@dataclass(frozen=True)
class Effective(Generic[S]):
    """The component's effective configuration, read back from the live system."""

    read: Callable[[S, Live, float], Part]  # (spec, live, timeout_s); a system that does not answer is a part
    describe: Callable[[Part], str]  # one line in words (stack status, report)
    facts: tuple[Fact, ...] = ()  # what `assumes:` may name of it
    part: str | None = None  # the journal's part name when it is not the component's key


def _needs_nothing(spec: Any) -> list[Requirement]:
    return []


@dataclass(frozen=True)
class BackupMethod(Generic[S]):
    name: str  # the stack file's `<kind>.<name>`: dump | snapshot | definitions
    scenario_method: Literal["dump", "snapshot"]  # what a scenario's backup.method says
    take: Callable[[S, Live, TakeContext], Taken]
    restore: Callable[[S, Live, Taken, RestoreContext], Restored]  # a new cluster from it, verified
    verify: Callable[[S, Live, int | None], tuple[int, int | None, str]]  # rows, max seq, checksum up to a seq
    needs: Callable[[S], list[Requirement]] = _needs_nothing  # logins, paths the stack file must give


# ---- the protocol ------------------------------------------------------------------------------------


def _no_one_shot(spec: Any) -> frozenset[str]:
    return frozenset()


def _uses_none(spec: Any) -> tuple[str, ...]:
    return ()


def _no_requirements(spec: Any, model: ComposeModel, key: str) -> list[Requirement]:
    return []


def _no_default_roles(spec: Any) -> Mapping[str, list[str]]:
    return {}


@dataclass(frozen=True)
class Adapter(Generic[S]):
    """One component adapter: its stack-file spec, what Drills reaches on its members, and each
    capability it has (None or empty: it has not that one)."""

    name: str  # `adapter:` in the stack file: patroni
    kind: str  # the group scenarios name: postgres | rabbitmq | mongo | etcd | balancer
    spec: type[S]
    label: str  # in words: "PostgreSQL (Patroni)"
    ports: Callable[[S], Mapping[str, int]]  # what Drills reaches on each member: {"sql": 5432, "rest": 8008}
    ready: Callable[[S, Live, bool], Observation] | None = None  # (spec, live, boot); None: healthy suffices
    ready_every_s: float = 1.0
    roles: Roles[S] | None = None
    status: Callable[[S, Live], StatusView] | None = None
    effective: Effective[S] | None = None
    leaders: Leaders[S] | None = None
    backups: tuple[BackupMethod[S], ...] = ()
    access: Callable[[S, Live], Access] | None = None
    logs: tuple[LogPattern, ...] = ()
    one_shot: Callable[[S], frozenset[str]] = _no_one_shot  # services that run once and exit (an init)
    uses: Callable[[S], tuple[str, ...]] = _uses_none  # keys of the components it needs (its DCS, its target)
    requirements: Callable[[S, ComposeModel, str], list[Requirement]] = _no_requirements
    probe: Callable[[S, Live], list[Requirement]] | None = None  # what only the live system can say
    default_roles: Callable[[S], Mapping[str, list[str]]] = _no_default_roles  # e.g. the balancer service
    pulled: PulledImage | None = None  # the image its containers run when Drills cannot build it


@dataclass(frozen=True)
class Bound(Generic[S]):
    """An adapter with its stack-file entry: what the rest of Drills calls."""

    key: str  # the entry's key under `components:`, which is its role group (postgres, db-proxy)
    adapter: Adapter[S]
    spec: S


# ---- images: what a component's containers need from a registry ------------------------------------


def _engine_has(client: docker.DockerClient, image: str) -> bool:
    from drills.provision.base_image import present

    return present(client, image)


@dataclass(frozen=True)
class PulledImage:
    """An image a component runs that Drills cannot build here (no Debian package of it): `drill
    setup` pulls it where a registry answers, `drill doctor` says which drills its absence leaves
    out, and a stack leaves the component's Compose profile off without it (its drills NOT RUN)."""

    reference: str  # the image scenarios' `requires:` and the Compose files name: mongo:7
    variable: str  # set by a site that runs its own image instead (a mirror, a hardened build)
    profile: str  # the Compose profile that enables the component
    kind: str  # the role group its containers serve: a stack without that group needs no image
    name: str  # in words, for messages: MongoDB
    present: Callable[[docker.DockerClient, str], bool] = _engine_has  # (client, image): here?

    def image(self, environ: Mapping[str, str] | None = None) -> str:
        """The image that answers `reference` here: the variable's (read now), else the reference."""
        env = os.environ if environ is None else environ
        return env.get(self.variable, "").strip() or self.reference
