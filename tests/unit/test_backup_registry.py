"""Backups and restores are found through the components' registry: each kind's methods under the
stack file's names, told apart by the scenario's method; the schedule takes and restore-backup
restores whatever the registry holds for the backup's component, with no branch of their own."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from drills.backup.model import Backup, Restore
from drills.backup.schedule import backup_function
from drills.components import _mongo_backup, _patroni_backup, _rabbitmq_definitions, registry
from drills.core.errors import FaultError
from drills.faults import restore
from drills.stack.definition import BACKUP_METHODS, StackDefinition, StackFile

ROOT = Path(__file__).resolve().parents[2]


def test_the_methods_are_the_vocabulary_s():
    assert {kind: tuple((m.name, m.scenario_method) for m in methods.values())
            for kind, methods in registry.LEGACY_BACKUPS.items()} == \
        {kind: legacy.backups for kind, legacy in registry.LEGACY.items() if legacy.backups}
    assert sorted(f"{kind}.{name}" for kind, methods in registry.LEGACY_BACKUPS.items() for name in methods) == \
        sorted(BACKUP_METHODS)
    assert registry.backup_kinds() == ("postgres", "rabbitmq", "mongo")


def test_a_scenario_s_method_names_one_of_them():
    pg = registry.backup_method({}, "postgres", "snapshot")
    assert (pg.take, pg.restore) == (_patroni_backup.snapshot, _patroni_backup.restore_snapshot)
    assert registry.backup_method({}, "postgres", "dump").take is _patroni_backup.dump
    rabbit = registry.backup_method({}, "rabbitmq", "dump")  # the definitions: a scenario says dump
    assert (rabbit.name, rabbit.take, rabbit.restore) == (
        "definitions", _rabbitmq_definitions.export_definitions, _rabbitmq_definitions.restore_definitions)
    mongo = registry.backup_method({}, "mongo", "dump")
    assert (mongo.take, mongo.restore, mongo.verify) == (
        _mongo_backup.dump, _mongo_backup.restore_dump, _mongo_backup.read_digest)
    with pytest.raises(ValueError, match="no backup for component 'etcd'"):
        registry.backup_method({}, "etcd", "dump")
    with pytest.raises(ValueError, match=r"no snapshot backup for component 'mongo' \(its methods: mongo.dump\)"):
        registry.backup_method({}, "mongo", "snapshot")


def repmgr_stack() -> Any:
    definition = StackDefinition(ROOT / "stacks/examples/repmgr/stack.yaml",
                                 StackFile.model_validate({"stack": "s", "compose": {"files": ["c.yaml"]},
                                                           "components": {"postgres": {"adapter": "repmgr"}}}))
    return SimpleNamespace(definition=definition)


def test_an_adapter_of_the_registry_gets_only_what_it_declares():
    with pytest.raises(ValueError, match=r"adapter repmgr has no dump backup of postgres \(it declares none\)"):
        backup_function(repmgr_stack(), "postgres", "dump")


def test_restore_backup_restores_through_the_registry(monkeypatch):
    called: list[tuple[Any, ...]] = []

    def fake(stack: Any, backup: Backup, timeout_s: float, clock: Any) -> Restore:
        called.append((stack, backup.id, timeout_s))
        return Restore(backup.id, backup.component, backup.method, 1.0, 2.0, True)

    methods = {"definitions": registry.LegacyBackup("definitions", "dump", _rabbitmq_definitions.export_definitions,
                                                    fake, _rabbitmq_definitions.verify)}
    monkeypatch.setattr(registry, "LEGACY_BACKUPS", {**registry.LEGACY_BACKUPS, "rabbitmq": methods})
    stack = SimpleNamespace(definition=SimpleNamespace(bound=dict))
    backup = Backup("rabbitmq-dump-001", "rabbitmq", "dump", 0.0, 1.0, True)
    ctx = SimpleNamespace(clock=lambda: 0.0)
    done = restore._restore(stack, backup, "dump", ctx)  # type: ignore[arg-type]
    assert done.ok and called == [(stack, "rabbitmq-dump-001", restore.RESTORE_TIMEOUT_S)]


def test_a_target_of_no_backed_up_kind_is_refused_as_before():
    assert restore.component_of("rabbitmq.leader@scheduled-runs") == "rabbitmq"
    with pytest.raises(FaultError, match=r"'etcd\.\*' is not a database or queue \(postgres\.\*, rabbitmq\.\*, "
                                         r"mongo\.\*\)"):
        restore.component_of("etcd.*")
