"""The component protocol (`drills.components`): the registry is well formed and finds an adapter
module the way the other registries find theirs; what it still reads from the legacy table agrees
with where the same vocabulary is spelled today; reading it loads no driver.

Each adapter that moves in is checked here too (its spec names it, its capabilities are its own)."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from types import SimpleNamespace
from typing import Any, get_args

import pytest
from pydantic import ValidationError

from drills.checkers.failover import QUEUED, Failover
from drills.components import base, registry
from drills.components.base import Adapter, AdapterSpec, Bound, ComposeModel, Credential
from drills.core import roles
from drills.core.discovery import modules_of
from drills.core.errors import RegistryError
from drills.explore import strategy
from drills.run.stack_fit import backup_method
from drills.stack.definition import BACKUP_METHODS

# ---- the registry -------------------------------------------------------------------------------------


def test_every_module_of_the_package_is_the_protocols_or_an_adapter():
    modules = {m.name for m in pkgutil.iter_modules(importlib.import_module("drills.components").__path__)}
    assert modules >= registry.PROTOCOL
    adapters = modules_of("drills.components", skip=registry.PROTOCOL)
    assert [importlib.import_module(f"drills.components.{m}").ADAPTER for m in adapters] == list(
        registry.ADAPTERS.values())


def well_formed(adapter: Adapter[Any]) -> None:
    """What every adapter must be: named by its own spec, its capabilities consistent."""
    assert issubclass(adapter.spec, AdapterSpec)
    assert get_args(adapter.spec.model_fields["adapter"].annotation) == (adapter.name,)
    assert adapter.kind and adapter.label
    if adapter.ready or adapter.effective or adapter.leaders:
        assert adapter.ports(adapter.spec()), "Drills reaches its members on some port"
    methods = [m.name for m in adapter.backups]
    assert len(methods) == len(set(methods))
    assert all(m.scenario_method in ("dump", "snapshot") for m in adapter.backups)


def test_the_registry_is_well_formed():
    for adapter in registry.ADAPTERS.values():
        well_formed(adapter)
    assert all(name == a.name for name, a in registry.ADAPTERS.items())
    assert tuple(a.spec for a in registry.ADAPTERS.values()) == registry.SPECS
    assert tuple(sorted({a.kind for a in registry.ADAPTERS.values()})) == registry.KINDS
    with pytest.raises(TypeError):
        registry.ADAPTERS["x"] = registry.ADAPTERS.get("x")  # type: ignore[index]


def test_an_unknown_adapter_is_refused_with_the_adapters_there_are():
    with pytest.raises(RegistryError, match="no component adapter 'melt'") as caught:
        registry.adapter_of("melt")
    assert (", ".join(registry.ADAPTERS) or "none") in str(caught.value)


# ---- an adapter in a package of its own --------------------------------------------------------------


THING = """
from typing import Literal

from drills.components.base import Adapter, AdapterSpec


class Spec(AdapterSpec):
    adapter: Literal[{name!r}] = {name!r}
    port: int = 80


ADAPTER = Adapter(name={name!r}, kind={kind!r}, spec=Spec, label="Thing", ports=lambda s: {{"api": s.port}})
"""


def thing(name: str, kind: str = "thing") -> str:
    return THING.format(name=name, kind=kind)


def test_a_package_with_one_adapter_module_is_discovered_and_its_helpers_are_not(package):
    pkg = package({"thing": thing("thing"), "_helper": "X = 1\n", "base": "X = 2\n", "registry": "X = 3\n",
                   "httpjson": "X = 4\n"})
    found = registry.discover(pkg)
    assert list(found) == ["thing"]
    adapter = found["thing"]
    assert isinstance(adapter, Adapter)
    well_formed(adapter)
    spec = adapter.spec(port=8080)
    assert adapter.ports(spec) == {"api": 8080}
    # An adapter that declares nothing else has no capability: each one is None or empty, never a flag.
    assert (adapter.ready, adapter.roles, adapter.status, adapter.effective, adapter.leaders, adapter.access,
            adapter.probe) == (None,) * 7
    assert (adapter.backups, adapter.logs) == ((), ())
    assert adapter.one_shot(spec) == frozenset()
    assert adapter.uses(spec) == ()
    assert adapter.requirements(spec, ComposeModel({}), "thing") == []
    assert adapter.default_roles(spec) == {}


def test_a_module_of_the_package_without_an_adapter_or_a_name_twice_is_an_error_naming_it(package):
    pkg = package({"thing": thing("thing"), "helper": "X = 1\n"})
    with pytest.raises(RegistryError, match=rf"{pkg}\.helper defines no ADAPTER"):
        registry.discover(pkg)
    pkg = package({"one": thing("thing"), "two": thing("thing")})
    twice = rf"two component adapters are named 'thing': in {pkg}\.one and in {pkg}\.two"
    with pytest.raises(RegistryError, match=twice):
        registry.discover(pkg)
    pkg = package({"wrong": "ADAPTER = 'thing'\n"})
    with pytest.raises(RegistryError, match=rf"{pkg}\.wrong\.ADAPTER is not an Adapter"):
        registry.discover(pkg)


def test_a_stack_files_entries_are_bound_to_their_adapters_and_found_by_group(package, monkeypatch):
    found = registry.discover(package({"thing": thing("thing"), "other": thing("other", kind="thing"),
                                       "solo": thing("solo", kind="solo")}))
    monkeypatch.setattr(registry, "ADAPTERS", found)
    spec = {name: a.spec() for name, a in found.items()}
    bound = registry.bind({"db": spec["thing"], "db2": spec["other"], "s": spec["solo"]})
    assert bound["db"] == Bound("db", found["thing"], spec["thing"])
    assert bound["db2"].adapter is found["other"]
    assert registry.of_group(bound, "db") is bound["db"]  # by key
    assert registry.of_group(bound, "solo") is bound["s"]  # the one component of that kind
    assert registry.of_group(bound, "thing") is None  # two of that kind: which one would be a guess
    assert registry.of_group(bound, "nothing") is None
    with pytest.raises(RegistryError, match="no component adapter 'melt'"):
        registry.bind({"x": AdapterSpec(adapter="melt")})


# ---- the legacy table: the vocabulary as it is spelled today -----------------------------------------


def test_the_legacy_roles_are_the_role_grammars():
    assert {kind: entry.selectors for kind, entry in registry.LEGACY.items()} == roles.DYNAMIC
    assert frozenset().union(*(e.single for e in registry.LEGACY.values())) == strategy._ONE_NODE
    assert all(e.single <= e.selectors for e in registry.LEGACY.values())
    queued = {kind: e for kind, e in registry.LEGACY.items() if e.qualifier}
    assert list(queued) == [QUEUED]
    assert queued[QUEUED].default_qualifier == roles.DEFAULT_QUEUE
    assert roles.parse_role("rabbitmq.leader").queue == queued[QUEUED].default_qualifier


def test_the_legacy_leaders_are_those_failover_may_name():
    sampled = {kind for kind, e in registry.LEGACY.items() if e.leaders}
    assert sampled == set(get_args(Failover.model_fields["component"].annotation))
    assert {kind for kind, e in registry.LEGACY.items() if e.leader_qualifier} == {QUEUED}


def test_the_legacy_backups_are_the_stack_files_methods_as_a_scenario_names_them():
    names = [f"{kind}.{name}" for kind, e in registry.LEGACY.items() for name, _ in e.backups]
    assert sorted(names) == sorted(BACKUP_METHODS)
    for kind, e in registry.LEGACY.items():
        for name, method in e.backups:
            scenario = SimpleNamespace(backup=SimpleNamespace(component=kind, method=method))
            assert backup_method(scenario) == f"{kind}.{name}"  # type: ignore[arg-type]


# ---- the protocol's records --------------------------------------------------------------------------


def test_a_credential_names_exactly_one_source():
    assert Credential(env="PGPASSWORD").env == "PGPASSWORD"
    assert Credential(container_env={"service": "pg1", "variable": "POSTGRES_PASSWORD"}).container_env is not None
    with pytest.raises(ValidationError, match="exactly one of env, file, secret, container_env, generated; it "
                                              "names none"):
        Credential()
    with pytest.raises(ValidationError, match="it names env and file"):
        Credential(env="A", file="secrets/pw")


def test_the_compose_model_reads_what_compose_resolved():
    model = ComposeModel({"services": {
        "db": {"image": "postgres:16", "hostname": "db-1", "environment": {"PGPASSWORD": "x", "PGUSER": "u"},
               "ports": [{"target": 5432, "published": "15432"}, {"target": 8008}],
               "volumes": [{"type": "volume", "source": "data", "target": "/var/lib/pg"}]},
        "app": {"build": {"context": "."}, "environment": ["A=1", "B"]},
    }})
    assert model.services() == ("db", "app")
    assert (model.image("db"), model.hostname("db"), model.builds("db")) == ("postgres:16", "db-1", False)
    assert (model.image("app"), model.hostname("app"), model.builds("app")) == (None, None, True)
    assert model.env_keys("db") == {"PGPASSWORD", "PGUSER"}
    assert model.env_keys("app") == {"A", "B"}
    assert model.published("db") == {5432}
    assert model.mount_targets("db") == ("/var/lib/pg",)
    assert model.published("nowhere") == frozenset() and ComposeModel({}).services() == ()


def test_the_samplers_record_the_protocols_reading():
    from drills.components import _patroni_leaders, _rabbitmq_leaders
    from drills.sampling import leaders

    assert leaders.Reading is _patroni_leaders.Reading is _rabbitmq_leaders.Reading is base.Reading


# ---- reading a registry loads no driver --------------------------------------------------------------


@pytest.mark.parametrize("module", ["drills.components.registry", "drills.workload.registry"])
def test_reading_the_registry_loads_no_driver(module: str):
    # `drill validate` reads the registries; the drivers (and the engine's client) load only when a
    # drill talks to the system, inside the functions that do.
    code = (f"import sys, {module}\n"
            "print(','.join(m for m in ('docker', 'psycopg', 'pymongo', 'pika') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
