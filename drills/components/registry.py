"""Every component adapter, once: each module of `drills.components` but the protocol's own declares
`ADAPTER = Adapter(...)` (`drills.components.base`), found by `drills.core.discovery`'s rule, as
the fault kinds, checkers, signals and samplers are. Importing this imports the adapter modules and
no driver (docker, psycopg, pika, pymongo): adapters import those inside functions, so reading the
registry stays as cheap as `drill validate` needs.

    ADAPTERS    adapter name (a stack file's `adapter:`) -> Adapter; `adapter_of(name)` one of them
    SPECS       their stack-file models; KINDS the groups they serve (postgres, rabbitmq, ...)
    bind        a stack file's `components:` entries -> Bound (each entry with its adapter)
    of_group    the bound component a role group names (by key, else the one of that kind)
    LEGACY      what the scenario vocabulary knows of a kind whose adapter has not moved in yet

`LEGACY` holds, per kind, what scenarios, checkers and the stack file may say of it today (its role
selectors, whether its leaders are sampled and per what, its backup methods), as they were spelled
before (`tests/unit/test_components_protocol.py` keeps them equal, and to
`drills.stack.definition.BACKUP_METHODS`), so that the vocabulary can be read from here before the
adapters exist: `VOCABULARY` (at the end) is the table's words and the adapters', which the
scenario language reads (`grammar()`, `kinds_with`, `leader_qualifier`). A kind's entry goes
when its adapter declares the same; the table goes when the last one has.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from drills.components._backup_tools import BackupLive, Clock
from drills.components.base import Adapter, AdapterSpec, Bound
from drills.core.backups import Backup, Digest, Restore
from drills.core.discovery import Declared, declared, indexed, instance_of, lookup
from drills.core.roles import RoleGrammar, RoleRef, parse_role

PACKAGE = "drills.components"
PROTOCOL = frozenset({"base", "registry", "httpjson"})  # private helpers (`_name`) are skipped anyway


def discover(package: str = PACKAGE, skip: frozenset[str] = PROTOCOL) -> dict[str, Adapter[Any]]:
    """The adapters `package`'s modules declare, by name (in module-name order)."""
    found: list[Declared[Adapter[Any]]] = declared(package, "ADAPTER", instance_of(Adapter), "an Adapter", skip=skip)
    return indexed(((d.module, d.value) for d in found), lambda a: a.name, "component adapter")


ADAPTERS: Mapping[str, Adapter[Any]] = MappingProxyType(discover())
SPECS: tuple[type[AdapterSpec], ...] = tuple(a.spec for a in ADAPTERS.values())
KINDS: tuple[str, ...] = tuple(sorted({a.kind for a in ADAPTERS.values()}))


def adapter_of(name: str) -> Adapter[Any]:
    """The adapter a stack file names; an unknown one is a `RegistryError` listing the adapters."""
    return lookup(ADAPTERS, name, "component adapter")


def bind(components: Mapping[str, AdapterSpec]) -> dict[str, Bound[Any]]:
    """A stack file's `components:` (key -> entry), each entry with the adapter it names."""
    return {key: Bound(key, adapter_of(spec.adapter), spec) for key, spec in components.items()}


def of_group(bound: Mapping[str, Bound[Any]], group: str) -> Bound[Any] | None:
    """The component a role group names: by its key; else the one component of that kind (a stack
    that calls its PostgreSQL `db` still answers `postgres.leader`); None when there is none, or
    several of that kind (which one would be a guess)."""
    if group in bound:
        return bound[group]
    of_kind = [b for b in bound.values() if b.adapter.kind == group]
    return of_kind[0] if len(of_kind) == 1 else None


# ---- the vocabulary of the kinds whose adapters have not moved in yet --------------------------------


@dataclass(frozen=True)
class LegacyKind:
    """What the scenario vocabulary says of a kind, as an adapter's `Roles`, `Leaders` and
    `BackupMethod`s will."""

    selectors: frozenset[str]  # its dynamic roles (postgres.leader)
    single: frozenset[str]  # the selectors naming one node
    qualifier: str | None = None  # what a selector's `@X` names (rabbitmq.leader@QUEUE: a queue)
    default_qualifier: str | None = None  # the one meant without `@X`
    leaders: bool = False  # its leaders are sampled through a drill (failover, split-brain, ...)
    leader_qualifier: str | None = None  # leadership is per this (a queue), sampled as `kind@X`
    backups: tuple[tuple[str, Literal["dump", "snapshot"]], ...] = ()  # (stack file's name, scenario's method)


# One statement per kind, apart: the lanes that move the kinds into their adapters each delete
# their own, at the same time, without touching each other's lines.
_legacy: dict[str, LegacyKind] = {}

_legacy["postgres"] = LegacyKind(
    selectors=frozenset({"leader", "replica"}), single=frozenset({"leader"}), leaders=True,
    backups=(("dump", "dump"), ("snapshot", "snapshot")))

_legacy["rabbitmq"] = LegacyKind(
    selectors=frozenset({"leader", "follower"}), single=frozenset({"leader"}), qualifier="queue",
    default_qualifier="scheduled-runs", leaders=True, leader_qualifier="queue", backups=(("definitions", "dump"),))

_legacy["mongo"] = LegacyKind(
    selectors=frozenset({"primary", "secondary"}), single=frozenset({"primary"}), backups=(("dump", "dump"),))

LEGACY: Mapping[str, LegacyKind] = MappingProxyType(_legacy)


# ---- images: what the components' containers need pulled from a registry ---------------------------

from drills.components._mongo_image import MONGO_IMAGE  # noqa: E402 (this block stays apart: merges stay trivial)
from drills.components.base import PulledImage  # noqa: E402

# The pulled images of the components whose adapters have not moved in yet, one statement each.
_legacy_pulled: dict[str, PulledImage] = {}

_legacy_pulled["mongo"] = MONGO_IMAGE


def pulled_images() -> tuple[PulledImage, ...]:
    """Every image a component needs from a registry: the adapters' (`Adapter.pulled`), then the
    legacy table's for profiles no adapter declares; each profile once."""
    declared = [a.pulled for a in ADAPTERS.values() if a.pulled is not None]
    profiles = {p.profile for p in declared}
    return (*declared, *(p for p in _legacy_pulled.values() if p.profile not in profiles))
# ---- logs: log patterns and leader rounds of the kinds whose adapters have not moved in yet ---------
# What each software logs when it acts (drills.stack.log_events reads these), and who leads each
# sampled thing (drills.sampling.leaders samples these), for the components still without an adapter:
# one statement per software or kind, deleted by the lane that moves it into its adapter.

# Imported here, not at the top: each lane's additions are one block at the end (merged without conflict).
from collections.abc import Collection  # noqa: E402

from drills.components import (  # noqa: E402
    _etcd_logs,
    _haproxy_logs,
    _mongo_logs,
    _patroni_leaders,
    _patroni_logs,
    _rabbitmq_leaders,
    _rabbitmq_logs,
)
from drills.components.base import LeaderRounds, LogPattern  # noqa: E402

_legacy_logs: dict[str, tuple[LogPattern, ...]] = {}
_legacy_logs["patroni"] = _patroni_logs.PATTERNS
_legacy_logs["etcd"] = _etcd_logs.PATTERNS
_legacy_logs["rabbitmq"] = _rabbitmq_logs.PATTERNS
_legacy_logs["haproxy"] = _haproxy_logs.PATTERNS
_legacy_logs["mongo"] = _mongo_logs.PATTERNS

LEGACY_LOGS: Mapping[str, tuple[LogPattern, ...]] = MappingProxyType(_legacy_logs)  # software -> its patterns


def log_patterns() -> tuple[LogPattern, ...]:
    """Every log pattern Drills knows, in the order a line is tried (the first that matches wins):
    the adapters' own, then those of the software still without an adapter."""
    return (*(p for a in ADAPTERS.values() for p in a.logs), *(p for ps in LEGACY_LOGS.values() for p in ps))


@dataclass(frozen=True)
class LegacyLeaders:
    """A kind's leader rounds while its adapter has not moved in: opened on the stack as the sampler
    has it (`drills.stack.topology.StackView`, which this package cannot import) rather than on a
    `Live` and a spec, as `Leaders.open` is."""

    open: Callable[[Any, Collection[str]], LeaderRounds]  # (the stack, the subjects of the kind)
    qualifier: str | None = None  # leadership is per this (a queue): the subjects are `kind@X`


_legacy_leaders: dict[str, LegacyLeaders] = {}
_legacy_leaders["postgres"] = LegacyLeaders(_patroni_leaders.open_rounds)
_legacy_leaders["rabbitmq"] = LegacyLeaders(_rabbitmq_leaders.open_rounds, qualifier="queue")

LEGACY_LEADERS: Mapping[str, LegacyLeaders] = MappingProxyType(_legacy_leaders)  # kind -> its rounds
# ---- effective: the effective configuration of the kinds whose adapters have not moved in yet -------
# Each kind's part of the record (its name in the journal), its label, its words and the facts
# `assumes:` may name of it, in the order the record lists them (drills.stack.effective reads them,
# drills.stack.effective_text shows them, drills.spec.assumptions checks them), and each part's reader
# (drills.stack.effective_sources runs them over the stack as `_legacy_stack.LegacyStack`). An adapter
# with its own `Effective` describes a part that says `settings.adapter: <its name>`; the readers hand
# over to it (repmgr's PostgreSQL, nginx's balancer). The entries go when the adapters read their parts.


from collections.abc import Sequence  # noqa: E402

from drills.components import (  # noqa: E402
    _haproxy_effective,
    _mongo_effective,
    _patroni_effective,
    _rabbitmq_effective,
)
from drills.components._legacy_stack import LegacyStack  # noqa: E402
from drills.components.base import Live  # noqa: E402
from drills.core.effective_config import Fact, Part  # noqa: E402


@dataclass(frozen=True)
class LegacyEffective:
    part: str  # the journal's part name
    label: str  # in words, as `drill stack status` and the report head its line
    describe: Callable[[Part], str]
    facts: tuple[Fact, ...] = ()
    examples: tuple[str, ...] = ()  # `assumes:` as a scenario writes it (the grammar's help, the schema)
    # (stack, its containers, timeout, the stack as an adapter's `Live` for the handover) -> the part;
    # never raises for a system that does not answer (the caller records any exception as not read)
    read: Callable[[LegacyStack, Mapping[str, Any], float, Live | None], Part] | None = None
    # (stack, the services Compose defines) -> the part's: a part absent while they are defined is not read
    defined: Callable[[LegacyStack, Sequence[str]], list[str]] | None = None
    logs_in: bool = False  # the adapter it hands over to logs in: its `Live` resolves the stack file's passwords


_legacy_effective: dict[str, LegacyEffective] = {}

_legacy_effective["postgres"] = LegacyEffective(
    _patroni_effective.PART, "PostgreSQL", _patroni_effective.describe, _patroni_effective.FACTS,
    _patroni_effective.EXAMPLES, _patroni_effective.read_postgres, _patroni_effective.defined, logs_in=True)

_legacy_effective["rabbitmq"] = LegacyEffective(
    _rabbitmq_effective.PART, "RabbitMQ", _rabbitmq_effective.describe, _rabbitmq_effective.FACTS,
    read=_rabbitmq_effective.read_rabbitmq, defined=_rabbitmq_effective.defined)

_legacy_effective["mongo"] = LegacyEffective(
    _mongo_effective.PART, "MongoDB", _mongo_effective.describe, _mongo_effective.FACTS,
    read=_mongo_effective.read_mongo, defined=_mongo_effective.defined)

_legacy_effective["balancer"] = LegacyEffective(_haproxy_effective.PART, "Balancer", _haproxy_effective.describe,
                                                read=_haproxy_effective.read, defined=_haproxy_effective.defined)

LEGACY_EFFECTIVE: Mapping[str, LegacyEffective] = MappingProxyType(_legacy_effective)
EFFECTIVE_PARTS: tuple[str, ...] = tuple(e.part for e in LEGACY_EFFECTIVE.values())
EFFECTIVE_LABELS: Mapping[str, str] = MappingProxyType({e.part: e.label for e in LEGACY_EFFECTIVE.values()})
LEGACY_FACTS: tuple[Fact, ...] = tuple(f for e in LEGACY_EFFECTIVE.values() for f in e.facts)
ADAPTER_FACTS: tuple[Fact, ...] = tuple(f for a in ADAPTERS.values() if a.effective is not None
                                        for f in a.effective.facts)
FACT_EXAMPLES: tuple[str, ...] = tuple(x for e in LEGACY_EFFECTIVE.values() for x in e.examples)


def describe_part(name: str, part: Part) -> str:
    """A read part in words: in its adapter's, when the part names one (`settings.adapter`) that
    describes, else in its kind's; KeyError for a part no kind records."""
    adapter = ADAPTERS.get(str(part.settings.get("adapter")))
    if adapter is not None and adapter.effective is not None:
        return adapter.effective.describe(part)
    for entry in LEGACY_EFFECTIVE.values():
        if entry.part == name:
            return entry.describe(part)
    raise KeyError(name)
# ---- vocab: the scenario language's component vocabulary (issue 21, B5) ------------------------------
# What a scenario, a checker's expectation and an exploration may say of each kind, from the legacy
# table and the adapters together: the scenario models build their Literals from here (as
# drills.files.scenario_schema builds its unions from the fault and checker registries), and
# `grammar()` is what drills.core.roles.parse_role checks a role against.

# etcd: a group scenarios name (`etcd.*`, a partition `from: [etcd.*]`) with no dynamic roles of its
# own; the explorations rank it as a whole component. Its lane (C-E1) deletes this with the rest.
_legacy["etcd"] = LegacyKind(selectors=frozenset(), single=frozenset())

Vocabulary = LegacyKind  # a kind's words, whoever declares them (the legacy table, or its adapters)
Capability = Literal["roles", "leaders", "cluster-leaders", "backups"]


def _vocabulary(kind: str) -> Vocabulary:
    """A kind's words: its legacy entry's and those of each adapter of that kind, together (an
    adapter of a kind still in the legacy table, like repmgr's PostgreSQL, says a part of the same)."""
    base = LEGACY.get(kind, LegacyKind(selectors=frozenset(), single=frozenset()))
    adapters = [a for a in ADAPTERS.values() if a.kind == kind]
    roles = [a.roles for a in adapters if a.roles is not None]
    leaders = [a.leaders for a in adapters if a.leaders is not None]
    methods = [*base.backups, *((m.name, m.scenario_method) for a in adapters for m in a.backups)]
    return Vocabulary(
        selectors=base.selectors.union(*(r.selectors for r in roles)),
        single=base.single.union(*(r.single for r in roles)),
        qualifier=base.qualifier or next((r.qualifier for r in roles if r.qualifier), None),
        default_qualifier=base.default_qualifier,
        leaders=base.leaders or bool(leaders),
        leader_qualifier=base.leader_qualifier or next((x.qualifier for x in leaders if x.qualifier), None),
        backups=tuple(dict.fromkeys(methods)))


# The legacy table's kinds in its order (which the scenario schema's enums keep), then the adapters'.
VOCABULARY: Mapping[str, Vocabulary] = MappingProxyType(
    {kind: _vocabulary(kind) for kind in dict.fromkeys([*LEGACY, *KINDS])})


def kinds_with(capability: Capability) -> tuple[str, ...]:
    """The kinds that have `capability`, in VOCABULARY's order: dynamic roles (`postgres.leader`),
    leaders sampled through a drill, leaders sampled for the whole cluster (not per queue: what
    leader-changes and split-brain judge), backup methods."""
    def has(v: Vocabulary) -> bool:
        match capability:
            case "roles":
                return bool(v.selectors)
            case "leaders":
                return v.leaders
            case "cluster-leaders":
                return v.leaders and v.leader_qualifier is None
            case "backups":
                return bool(v.backups)
    return tuple(kind for kind, v in VOCABULARY.items() if has(v))


_GRAMMAR: Mapping[str, RoleGrammar] = MappingProxyType({
    kind: RoleGrammar(v.selectors, v.single, v.qualifier) for kind, v in VOCABULARY.items() if v.selectors})


def grammar() -> Mapping[str, RoleGrammar]:
    """What drills.core.roles.parse_role checks a role against: each kind with dynamic roles."""
    return _GRAMMAR


def role(text: str) -> RoleRef:
    """`text` read as a scenario's role: parse_role with every component's grammar."""
    return parse_role(text, _GRAMMAR)


def single_selectors() -> frozenset[str]:
    """The selectors naming one node, whatever the kind (leader, primary): drawn first by explorations."""
    return frozenset().union(*(v.single for v in VOCABULARY.values()))


def leader_qualifier(kind: str) -> str | None:
    """What leadership of `kind` is per (a queue: failover's `queue:`), None when it is the cluster's."""
    entry = VOCABULARY.get(kind)
    return entry.leader_qualifier if entry is not None else None


def sampled_as(kind: str, qualifier: str | None) -> str:
    """What the leaders of `kind` are sampled as: the kind (`postgres`), or `kind@X` when its
    leadership is per X and X is given (a RabbitMQ queue's `rabbitmq@drill-events`)."""
    return f"{kind}@{qualifier}" if qualifier and leader_qualifier(kind) else kind


def scenario_methods(kind: str) -> tuple[Literal["dump", "snapshot"], ...]:
    """The backup methods a scenario's `backup:` may ask of `kind` (dump, snapshot)."""
    entry = VOCABULARY.get(kind)
    return tuple(dict.fromkeys(method for _, method in entry.backups)) if entry is not None else ()


def role_examples() -> tuple[str, ...]:
    """Roles for the scenario language's descriptions, drawn from the first kinds with roles: one
    node, an index into a role of several, one node, a whole group, one node."""
    shown: list[str] = []
    for i, kind in enumerate(kinds_with("roles")[:3]):
        v = VOCABULARY[kind]
        shown.append(f"{kind}.{min(v.single or v.selectors)}")
        if i == 0 and v.selectors - v.single:
            shown.append(f"{kind}.{min(v.selectors - v.single)}[0]")
        if i == 1:
            shown.append(f"{kind}.*")
    return tuple(shown)
# ---- backups: the take / restore / verify of the kinds whose adapters have not moved in yet ----------


@dataclass(frozen=True)
class LegacyBackup:
    """One backup method of a kind, as `drills.backup` calls it until its adapter declares a
    `BackupMethod` (`LEGACY[kind].backups` names the same ones)."""

    name: str  # the stack file's `<kind>.<name>`: dump | snapshot | definitions
    scenario_method: Literal["dump", "snapshot"]  # what a scenario's backup.method says
    take: Callable[[BackupLive, str, Path, Clock], Backup]  # (stack, backup id, host directory, clock)
    restore: Callable[[BackupLive, Backup, float, Clock], Restore]  # a new cluster from it (timeout), verified
    verify: Callable[[BackupLive, int | None], Digest]  # what the stack holds now, up to a seq


def _legacy_backups() -> dict[str, dict[str, LegacyBackup]]:
    from drills.components import _mongo_backup, _patroni_backup, _rabbitmq_definitions

    pg, rabbit, mongo = _patroni_backup, _rabbitmq_definitions, _mongo_backup
    return {
        "postgres": {"dump": LegacyBackup("dump", "dump", pg.dump, pg.restore_dump, pg.verify),
                     "snapshot": LegacyBackup("snapshot", "snapshot", pg.snapshot, pg.restore_snapshot, pg.verify)},
        "rabbitmq": {"definitions": LegacyBackup("definitions", "dump", rabbit.export_definitions,
                                                 rabbit.restore_definitions, rabbit.verify)},
        "mongo": {"dump": LegacyBackup("dump", "dump", mongo.dump, mongo.restore_dump, mongo.read_digest)},
    }


# kind -> the stack file's method name -> its take, restore and verify
LEGACY_BACKUPS: Mapping[str, Mapping[str, LegacyBackup]] = MappingProxyType(
    {kind: MappingProxyType(methods) for kind, methods in _legacy_backups().items()})


def backup_kinds() -> tuple[str, ...]:
    """The kinds a scenario may back up and restore (postgres, rabbitmq, mongo)."""
    return tuple(LEGACY_BACKUPS)


def backup_method(bound: Mapping[str, Bound[Any]], kind: str, method: str) -> LegacyBackup:
    """The backup of component `kind` that a scenario's `method` (dump | snapshot) names. A stack
    whose component of that kind has its adapter here gets only what that adapter declares (repmgr:
    nothing; `drills.run.stack_fit` says so before a drill starts); ValueError when there is none."""
    methods = LEGACY_BACKUPS.get(kind)
    if methods is None:
        raise ValueError(f"no backup for component {kind!r}")
    found = of_group(bound, kind)
    if found is not None:
        raise ValueError(f"adapter {found.adapter.name} has no {method} backup of {kind} "
                         f"(it declares {', '.join(m.name for m in found.adapter.backups) or 'none'})")
    for backup in methods.values():
        if backup.scenario_method == method:
            return backup
    raise ValueError(f"no {method} backup for component {kind!r} (its methods: "
                     f"{', '.join(f'{kind}.{name}' for name in methods)})")
# ---- files: what scenario and stack files may say of the kinds, and what a stack declares of them ---
# drills.files.scenario_schema (recovery conditions), drills.run.stack_fit (the qualifiers a role may
# name): the legacy kinds' statements go with their lanes, as above.

from drills.components import _legacy_ready  # noqa: E402


def ready_kinds() -> tuple[str, ...]:
    """The kinds a stack waits for to be ready (each its own bar: drills.stack.readiness), in
    VOCABULARY's order: what a scenario's `recovery.conditions` may name beside the containers."""
    ready = {*_legacy_ready.READY, *(a.kind for a in ADAPTERS.values() if a.ready is not None)}
    return tuple(kind for kind in VOCABULARY if kind in ready)


# The qualifiers a legacy kind's stack file entry declares (RabbitMQ's `queues:`), one statement per kind.
_legacy_qualifiers: dict[str, Callable[[Any], tuple[str, ...]]] = {}
_legacy_qualifiers["rabbitmq"] = lambda spec: tuple(spec.queues)


def declared_qualifiers(kind: str, found: Bound[Any] | None, spec: Any) -> tuple[str, ...]:
    """What the stack file declares that a role of `kind` may name after `@` (its queues): its
    adapter's `Roles.qualifiers` when `found` (the component bound to an adapter here), else the legacy
    kind's from its entry `spec`; () when it declares none (then any is taken)."""
    if found is not None:
        return found.adapter.roles.qualifiers(found.spec) if found.adapter.roles is not None else ()
    legacy = _legacy_qualifiers.get(kind)
    return legacy(spec) if legacy is not None and spec is not None else ()


# What a legacy kind's `dump` is, in the words of a scenario's `backup.method` description.
_legacy_dump_words: dict[str, str] = {}
_legacy_dump_words["postgres"] = "pg_dump"
_legacy_dump_words["rabbitmq"] = "RabbitMQ definitions export"
_legacy_dump_words["mongo"] = "mongodump"


def dump_words(kind: str) -> str:
    """What a scenario's `method: dump` takes of `kind`, in words (pg_dump, mongodump)."""
    return _legacy_dump_words.get(kind, f"{kind}'s dump")
# ---- topology: dynamic roles and status of the kinds whose adapters have not moved in yet ------------
# Who plays `postgres.leader`, `rabbitmq.leader@QUEUE`, `mongo.primary` now, and what `drill stack
# status` reads and draws of each kind, for the kinds still without an adapter: drills.stack.topology
# asks a bound adapter's `roles` first, then `LEGACY_ROLES`; drills.stack.status reads and draws
# `LEGACY_STATUS`. They read the stack as `_legacy_stack.LegacyStack`; one statement per kind,
# deleted by the lane that moves the kind into its adapter.

from drills.components import (  # noqa: E402
    _legacy_status,
    _mongo_topology,
    _patroni_topology,
    _rabbitmq_topology,
)
from drills.components._stack_view import Settings  # noqa: E402
from drills.components.base import StatusView  # noqa: E402

# (the stack, its snapshot, the role, the group's services with a container) -> the services now
LegacyResolve = Callable[[LegacyStack, Mapping[str, Any], RoleRef, list[str]], list[str]]

_legacy_roles: dict[str, LegacyResolve] = {}
_legacy_roles["postgres"] = _patroni_topology.resolve
_legacy_roles["rabbitmq"] = _rabbitmq_topology.resolve
_legacy_roles["mongo"] = _mongo_topology.resolve

LEGACY_ROLES: Mapping[str, LegacyResolve] = MappingProxyType(_legacy_roles)  # kind -> who plays its roles


@dataclass(frozen=True)
class LegacyStatus:
    """What `drill stack status` reads of a kind (each read on its own, concurrently, under the key
    `--json` has always written it under) and how it draws what they returned."""

    reads: Mapping[str, Callable[[LegacyStack, Mapping[str, Any]], Any]]  # key -> (stack, snapshot) -> value
    views: Callable[[Mapping[str, Any]], tuple[StatusView, ...]]  # every kind's values (by key) -> its views
    role: str | None = None  # a stack drilled without this role says so in one line instead of its views
    above_balancer: bool = False  # drawn above the balancer's line (else below), as it always was
    # The effective configuration is drawn only for a stack that has this kind's role (it was drawn
    # under MongoDB's table, and not for a stack without one).
    holds_effective: bool = False


def _postgres_nodes(stack: LegacyStack, snap: Mapping[str, Any]) -> tuple[str, ...]:
    return stack.defined(_patroni_topology.GROUP)


def _postgres_views(read: Mapping[str, Any]) -> tuple[StatusView, ...]:
    nodes = read["postgres_nodes"]
    return (_legacy_status.postgres(read["postgres"], nodes), _legacy_status.postgres_access(read["postgres_access"],
                                                                                              nodes))


_legacy_status_table: dict[str, LegacyStatus] = {}

_legacy_status_table["postgres"] = LegacyStatus(
    {"postgres": _patroni_topology.read_status, "postgres_nodes": _postgres_nodes,
     "postgres_access": _patroni_topology.proxy_paths}, _postgres_views, above_balancer=True)

_legacy_status_table["rabbitmq"] = LegacyStatus(
    {"rabbitmq": _rabbitmq_topology.read_status}, lambda read: (_legacy_status.rabbitmq(read["rabbitmq"]),),
    role="rabbitmq")

_legacy_status_table["mongo"] = LegacyStatus(
    {"mongo": _mongo_topology.read_status}, lambda read: (_legacy_status.mongo(read["mongo"]),), role="mongo",
    holds_effective=True)

LEGACY_STATUS: Mapping[str, LegacyStatus] = MappingProxyType(_legacy_status_table)  # kind -> its status

# `drill stack status --json`'s keys in the order it has always written them, the legacy kinds'
# among the stack's own; a key not listed follows them.
_STATUS_LAYOUT = ("project", "subnet", "services", "postgres", "rabbitmq", "mongo", "lb", "effective", "missing",
                  "postgres_nodes", "stack", "compose_files", "roles", "postgres_access")


def status_layout(doc: Mapping[str, Any]) -> dict[str, Any]:
    """`doc` (a stack's status as JSON) with its keys in `drill stack status --json`'s order."""
    ordered = {key: doc[key] for key in _STATUS_LAYOUT if key in doc}
    return ordered | {key: value for key, value in doc.items() if key not in ordered}


def left_out(settings: Settings) -> list[str]:
    """What `drill stack up` says of the optional parts of the stack it did not run, and why."""
    return _legacy_status.left_out({"mongo": settings.not_run(MONGO_IMAGE.profile)})
# ---- LANE: specs — the stack file's `components:` keys (issue 21, B1) --------------------------------
# Each key a stack file's `components:` may hold, in the order the schema lists them: the kind of
# adapter whose specs it holds (an entry names its adapter with `adapter:`), and, for the software
# whose adapter has not moved in yet, its spec and what Drills assumes of it. drills.stack.definition
# builds the `components:` model from this; a kind's legacy spec goes when its adapter declares it.

from pydantic import BaseModel  # noqa: E402

from drills.components import (  # noqa: E402
    _etcd_spec,
    _haproxy_spec,
    _mongo_spec,
    _patroni_spec,
    _postgres_spec,
    _rabbitmq_spec,
)


def _no_entry_roles(spec: Any) -> Mapping[str, list[str]]:
    return {}


@dataclass(frozen=True)
class StackEntry:
    """One key of a stack file's `components:`."""

    kind: str  # the adapters whose specs it holds: those of this kind
    legacy: tuple[type[BaseModel], ...] = ()  # specs of software still without an adapter, listed first
    description: str | None = None  # in the schema
    default: Callable[[], BaseModel] | None = None  # what signals and backups use where the file names none
    default_roles: Callable[[Any], Mapping[str, list[str]]] = _no_entry_roles  # of a legacy spec (an adapter: its own)
    access: Callable[[Any], tuple[str | None, int]] | None = None  # the path its signals take (a journal records it)


_entries: dict[str, StackEntry] = {}

_entries["postgres"] = StackEntry(
    "postgres", (_patroni_spec.PostgresSpec,),
    "The database with automatic failover; `adapter:` names what manages its failover.",
    default=lambda: _patroni_spec.PostgresSpec(adapter="patroni"), access=_postgres_spec.access_path)

_entries["etcd"] = StackEntry("etcd", (_etcd_spec.EtcdSpec,))

_entries["rabbitmq"] = StackEntry("rabbitmq", (_rabbitmq_spec.RabbitmqSpec,),
                                  default=lambda: _rabbitmq_spec.RabbitmqSpec(adapter="rabbitmq"))

_entries["mongo"] = StackEntry("mongo", (_mongo_spec.MongoSpec,),
                               default=lambda: _mongo_spec.MongoSpec(adapter="mongo"))

_entries["http"] = StackEntry(
    "balancer", (_haproxy_spec.HttpSpec,),
    "Stateless HTTP services behind a load balancer; `adapter:` names the balancer's software.",
    default_roles=_haproxy_spec.default_roles)


def _stack_entries() -> dict[str, StackEntry]:
    """The table's keys, then one per adapter kind no key holds (keyed by the kind)."""
    held = {e.kind for e in _entries.values()}
    return {**_entries, **{kind: StackEntry(kind) for kind in KINDS if kind not in held}}


STACK_ENTRIES: Mapping[str, StackEntry] = MappingProxyType(_stack_entries())


def entry_specs(key: str) -> tuple[type[BaseModel], ...]:
    """The specs an entry under `components.<key>` may be (told apart by `adapter:`): the legacy
    spec first, then the adapters' of its kind, in the registry's order."""
    entry = STACK_ENTRIES[key]
    return (*entry.legacy, *(a.spec for a in ADAPTERS.values() if a.kind == entry.kind))


def entry_roles(key: str, spec: Any) -> Mapping[str, list[str]]:
    """The roles an entry plays unless the stack file's role map says otherwise (the balancer's `http`)."""
    adapter = ADAPTERS.get(str(getattr(spec, "adapter", "")))
    return adapter.default_roles(spec) if adapter is not None else STACK_ENTRIES[key].default_roles(spec)


# The images of Drills' reference stack that `drill setup` builds (a stack file's `reference_images`).
REFERENCE_IMAGES = ("drills/patroni", "drills/rabbitmq", "drills/haproxy", "drills/app")


def backup_names() -> tuple[str, ...]:
    """The backup methods a stack file's `backups:` may list (`<kind>.<name>`), in the vocabulary's order."""
    return tuple(f"{kind}.{name}" for kind, v in VOCABULARY.items() for name, _ in v.backups)
