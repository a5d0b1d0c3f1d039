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
selectors, whether its leaders are sampled and per what, its backup methods), read from where those
are spelled now (`drills.core.roles.DYNAMIC`, `drills.checkers.failover.QUEUED`,
`drills.stack.definition.BACKUP_METHODS`: `tests/unit/test_components_protocol.py` keeps them
equal), so that the vocabulary can be read from here before the adapters exist. A kind's entry goes
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
