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

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from drills.components.base import Adapter, AdapterSpec, Bound
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
from collections.abc import Callable, Collection  # noqa: E402

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
