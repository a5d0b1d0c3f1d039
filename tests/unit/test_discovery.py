"""The one discovery rule of the registries (`drills.core.discovery`) and its one error type: on a
package written here, and on the registries of fault kinds, checkers, signals and component
adapters, which list what they listed before (the adapters' was born on the rule)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from types import SimpleNamespace
from typing import Any

import pytest

from drills.checkers import registry as checkers
from drills.components import registry as components
from drills.core.discovery import declared, indexed, instance_of, lookup, modules_of
from drills.core.errors import DrillsError, RegistryError
from drills.faults import registry as faults
from drills.workload import registry as signals


class Part:
    def __init__(self, name: str) -> None:
        self.name = name


@pytest.fixture
def package(package: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The shared `package` fixture (tests/unit/conftest.py), with `Part` importable by its modules."""
    monkeypatch.setitem(sys.modules, "_parts_of_test", sys.modules[__name__])
    return package


def part(name: str) -> str:
    return f"from _parts_of_test import Part\nPART = Part({name!r})\n"


def test_every_module_but_private_and_skipped_in_name_order_with_first_ones_first(package):
    pkg = package({"b": part("b"), "a": part("a"), "z": part("z"), "_private": part("p"), "skipped": part("s")})
    assert modules_of(pkg, skip={"skipped"}) == ["a", "b", "z"]
    assert modules_of(pkg, skip={"skipped"}, first=("z", "b")) == ["z", "b", "a"]
    found = declared(pkg, "PART", instance_of(Part), "a Part", skip={"skipped"}, first=("z",))
    assert [(d.module, d.value.name) for d in found] == [(f"{pkg}.z", "z"), (f"{pkg}.a", "a"), (f"{pkg}.b", "b")]


def test_a_module_without_the_attribute_is_an_error_naming_it_unless_not_required(package):
    pkg = package({"a": part("a"), "helper": "X = 1\n"})
    with pytest.raises(RegistryError, match=rf"{pkg}\.helper defines no PART") as caught:
        declared(pkg, "PART", instance_of(Part), "a Part")
    assert caught.value.hint and f"{pkg}.helper" in caught.value.hint
    assert [d.value.name for d in declared(pkg, "PART", instance_of(Part), "a Part", required=False)] == ["a"]


@pytest.mark.parametrize("required", [True, False])
def test_a_module_defining_the_wrong_type_is_an_error_naming_it(package, required):
    pkg = package({"a": part("a"), "wrong": "PART = 'a string'\n"})
    with pytest.raises(RegistryError, match=rf"{pkg}\.wrong\.PART is not a Part \(it is a str\)"):
        declared(pkg, "PART", instance_of(Part), "a Part", required=required)


@pytest.mark.parametrize("source", ["import no_such_module_anywhere\n", "PART = 1 / 0\n", "def broken(:\n"])
def test_a_module_that_fails_to_import_is_an_error_naming_it_with_its_cause(package, source):
    pkg = package({"a": part("a"), "broken": source})
    with pytest.raises(RegistryError, match=rf"{pkg}\.broken could not be imported") as caught:
        declared(pkg, "PART", instance_of(Part), "a Part", required=False)
    assert caught.value.__cause__ is not None
    assert isinstance(caught.value, DrillsError) and caught.value.exit_code == 3


def test_a_name_declared_twice_is_an_error_naming_both_modules():
    assert list(indexed([("m.a", Part("x")), ("m.b", Part("y"))], lambda p: p.name, "part")) == ["x", "y"]
    with pytest.raises(RegistryError, match=r"two parts are named 'x': in m\.a and in m\.b"):
        indexed([("m.a", Part("x")), ("m.b", Part("x"))], lambda p: p.name, "part")


def test_an_unknown_name_is_refused_with_the_known_names():
    assert lookup({"a": 1, "b": 2}, "b", "part") == 2
    with pytest.raises(RegistryError, match="no part 'c'") as caught:
        lookup({"a": 1, "b": 2}, "c", "part")
    assert "a, b" in str(caught.value)


# ---- the registries -------------------------------------------------------------------------------

# What each registry listed before it used `drills.core.discovery`, in its order. A kind added since
# keeps these in the same order (they are a subsequence), so a new part needs no edit here.
FAULT_KINDS_BEFORE = ("kill", "stop-respawn", "pause", "restart-services", "partition", "latency", "loss",
                      "disk-loss", "corrupt", "total-failure", "restore-backup", "disk-full")
FAULT_MODULES_BEFORE = ("process", "partition", "netem", "storage", "restore", "disk_full")
HEAL_ACTIONS_BEFORE = ("start", "unpause", "iptables-remove", "network-connect", "tc-remove", "compose-up",
                       "disk-full-remove")
CHECKERS_BEFORE = ("availability", "back-after-heal", "backup-integrity", "failover", "leader-changes",
                   "lost-writes", "queue", "resync", "rpo", "sessions", "split-brain", "steady-state")
SIGNALS_BEFORE = ("e2e.notify", "http.dashboard", "http.session", "mongo.write", "postgres.read",
                  "postgres.write", "rabbitmq.publish")


def in_order(before: tuple[str, ...], now: list[str]) -> bool:
    """`before` is a subsequence of `now`: nothing lost, nothing reordered."""
    rest = iter(now)
    return all(name in rest for name in before)


def test_the_registries_list_what_they_listed_before_in_the_same_order():
    assert in_order(FAULT_KINDS_BEFORE, list(faults.FAULTS))
    assert in_order(FAULT_MODULES_BEFORE, faults.fault_modules())
    assert in_order(HEAL_ACTIONS_BEFORE, list(faults.HEAL_ACTIONS))
    assert in_order(CHECKERS_BEFORE, list(checkers.CHECKERS))
    assert in_order(SIGNALS_BEFORE, list(signals.SIGNALS))


def _old_rule(package: str, attribute: str, skip: set[str]) -> list[Any]:
    """The registries' rules as they were written before, independently of `drills.core.discovery`."""
    path = importlib.import_module(package).__path__
    names = sorted(m.name for m in pkgutil.iter_modules(path) if m.name not in skip and not m.name.startswith("_"))
    values = [getattr(importlib.import_module(f"{package}.{n}"), attribute, None) for n in names]
    return [v for v in values if v is not None]


def test_the_registries_hold_what_the_old_rules_find():
    first = {m: i for i, m in enumerate(faults.FIRST)}
    by_module = sorted(faults.fault_modules(), key=lambda m: (first.get(m, len(first)), m))
    assert faults.fault_modules() == by_module
    old_faults = [k for m in by_module for k in importlib.import_module(f"drills.faults.{m}").KINDS]
    assert list(faults.ALL) == old_faults
    old_checkers = _old_rule("drills.checkers", "CHECKER", {"registry", "protocol"})
    assert list(checkers.CHECKERS.values()) == sorted(old_checkers, key=lambda c: c.name)
    assert list(signals.KINDS.values()) == _old_rule("drills.workload.signals", "KIND", set())
    assert list(components.ADAPTERS.values()) == _old_rule("drills.components", "ADAPTER", set(components.PROTOCOL))


def test_every_registry_refuses_an_unknown_name_with_one_error_type_listing_the_known_ones():
    with pytest.raises(RegistryError, match="no fault kind 'melt'") as fault:
        faults.fault_of(SimpleNamespace(fault="melt"))  # type: ignore[arg-type]
    with pytest.raises(RegistryError, match="no checker 'vibes'") as checker:
        checkers.checker_of("vibes")
    with pytest.raises(RegistryError, match="no checker 'vibes'"):
        checkers.samples_needed([SimpleNamespace(checker="vibes")])
    with pytest.raises(RegistryError, match=r"no signal 'smoke\.signal'") as signal:
        signals.kind_of("smoke.signal")
    with pytest.raises(RegistryError, match="no component adapter 'vibes'") as adapter:
        components.adapter_of("vibes")
    assert "kill, stop-respawn" in str(fault.value)
    assert "availability, back-after-heal" in str(checker.value)
    assert ", ".join(signals.SIGNALS) in str(signal.value)
    assert (", ".join(components.ADAPTERS) or "none") in str(adapter.value)
