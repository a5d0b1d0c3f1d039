"""The OS user a backup runs as, read from the data directory's owner: an empty answer (seen once
in 250 drills, `id ''` then failed the restore) is asked again, and never taken for a user."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from drills.components import _patroni_backup as backup
from drills.core.errors import FaultError


def answers(monkeypatch, *said: str) -> list[list[str]]:
    asked: list[list[str]] = []
    left = list(said)

    def run(container, argv, user=None):
        asked.append(argv)
        return left.pop(0)

    monkeypatch.setattr(backup.dockerio, "run", run)
    monkeypatch.setattr(backup.time, "sleep", lambda s: None)
    return asked


def test_an_empty_answer_is_asked_again(monkeypatch):
    asked = answers(monkeypatch, "\n", "postgres\n")
    pg = SimpleNamespace(os_user=None)
    assert backup.os_user(pg, SimpleNamespace(name="pg2"), lambda: "/data") == "postgres"  # type: ignore[arg-type]
    assert asked == [["stat", "-c", "%U", "/data"]] * 2


def test_no_owner_three_times_is_an_error_that_says_what_to_add(monkeypatch):
    answers(monkeypatch, "", "UNKNOWN", "")
    with pytest.raises(FaultError, match="named no owner") as raised:
        backup.os_user(SimpleNamespace(os_user=None), SimpleNamespace(name="pg2"), lambda: "/data")  # type: ignore[arg-type]
    assert "os_user" in (raised.value.hint or "")


def test_the_stack_files_os_user_is_taken_as_it_is(monkeypatch):
    asked = answers(monkeypatch)
    assert backup.os_user(SimpleNamespace(os_user="dba"), SimpleNamespace(name="pg2"), lambda: "/x") == "dba"  # type: ignore[arg-type]
    assert asked == []
