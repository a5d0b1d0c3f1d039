"""pg_restore that loses a race with an app service creating its table is run again (the restore is
one transaction: nothing of the failed attempt stayed); any other failure is not."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from drills.components import _patroni_backup as postgres
from drills.core.errors import FaultError

RACE = ('pg_restore in drills-x-pg2-1 exited 1: pg_restore: error: could not execute query: ERROR:  duplicate key '
        'value violates unique constraint "pg_type_typname_nsp_index"')


def scripted(monkeypatch, failures: list[str]) -> list[list[str]]:
    calls: list[list[str]] = []

    def run(container, argv, **_):
        calls.append(list(argv))
        if len(calls) <= len(failures):
            raise FaultError(failures[len(calls) - 1])
        return ""

    monkeypatch.setattr(postgres.dockerio, "run", run)
    return calls


def test_a_lost_race_is_restored_again(monkeypatch):
    calls = scripted(monkeypatch, [RACE])
    postgres._pg_restore(SimpleNamespace(name="pg2"), ["pg_restore", "--clean"])  # type: ignore[arg-type]
    assert len(calls) == 2


def test_other_failures_and_the_last_attempt_are_raised(monkeypatch):
    calls = scripted(monkeypatch, ["pg_restore exited 1: could not connect"])
    with pytest.raises(FaultError, match="could not connect"):
        postgres._pg_restore(SimpleNamespace(name="pg2"), ["pg_restore"])  # type: ignore[arg-type]
    assert len(calls) == 1
    calls = scripted(monkeypatch, [RACE] * postgres.RESTORE_ATTEMPTS)
    with pytest.raises(FaultError, match="duplicate key"):
        postgres._pg_restore(SimpleNamespace(name="pg2"), ["pg_restore"])  # type: ignore[arg-type]
    assert len(calls) == postgres.RESTORE_ATTEMPTS
