"""The stack fit's and the files' words of each kind come from the components' registry (issue 21,
B5 and C-R1's queue check): the same names and the same checks as when they were spelled out."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from drills.components import registry
from drills.run.stack_fit import backup_method


@pytest.mark.parametrize(("component", "method", "name"), [
    ("postgres", "dump", "postgres.dump"), ("postgres", "snapshot", "postgres.snapshot"),
    ("rabbitmq", "dump", "rabbitmq.definitions"), ("mongo", "dump", "mongo.dump")])
def test_a_scenarios_backup_is_named_as_the_stack_file_lists_it(component: str, method: str, name: str):
    scenario: Any = SimpleNamespace(backup=SimpleNamespace(component=component, method=method))
    assert backup_method(scenario) == name


def test_the_stack_file_names_every_backup_a_scenario_may_take():
    from drills.stack.definition import BACKUP_METHODS

    for kind in registry.kinds_with("backups"):
        for method in registry.scenario_methods(kind):
            scenario: Any = SimpleNamespace(backup=SimpleNamespace(component=kind, method=method))
            assert backup_method(scenario) in BACKUP_METHODS


def test_the_recovery_conditions_and_backup_components_keep_their_order():
    from drills.files.scenario_schema import BACKED_UP, CONDITIONS

    assert CONDITIONS == ("containers", "postgres", "rabbitmq", "mongo")
    assert BACKED_UP == ("postgres", "mongo", "rabbitmq")


def test_the_qualifiers_a_role_may_name_are_the_ones_its_entry_declares():
    entry = SimpleNamespace(queues=["scheduled-runs", "notifications"])
    kind = next(kind for kind, words in registry.VOCABULARY.items() if words.qualifier)
    assert registry.declared_qualifiers(kind, None, entry) == ("scheduled-runs", "notifications")
    assert registry.declared_qualifiers(kind, None, None) == ()
    assert registry.declared_qualifiers("etcd", None, entry) == ()
