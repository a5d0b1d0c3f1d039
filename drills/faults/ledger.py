"""A crash-safe record of applied faults: `ledgers/<project>.jsonl` in the state directory
(`drills.core.local_state`), one line per fault: "applying" (written and fsynced BEFORE the fault is
applied, `drills.faults.entry`), then "healed".

A fault whose "applying" line has no "healed" line is pending: `drill clean` (and every drill run
at start-up) heals pending faults whose applying process is gone (entries that do not name it: those
of projects whose owner process is gone). Entries are read back with every kind's heal actions
(`drills.faults.registry`), so any later `drill` process can heal what a killed runner left.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from drills.core.local_state import pid_alive
from drills.faults.entry import Entry, ledger_path, record_applying, record_healed
from drills.faults.registry import heal_action

__all__ = ["Entry", "ledger_path", "orphaned", "pending", "read_entry", "record_applying", "record_healed"]


def read_entry(record: dict[str, Any]) -> Entry:
    """An "applying" line back as the Entry that was written."""
    entry = Entry(fault_id=record["fault_id"], kind=record["kind"], project=record["project"],
                  heal=tuple(heal_action(a) for a in record["heal"]),
                  pid=record.get("pid"))  # None: written before entries named their process
    return replace(entry, applied_at=record["applied_at"]) if "applied_at" in record else entry


def pending(project: str) -> list[Entry]:
    """Faults applied (or being applied) and not yet healed, oldest first."""
    path = ledger_path(project)
    if not path.exists():
        return []
    open_entries: dict[str, Entry] = {}
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line torn by a crash mid-write; the fsync discipline makes this the last line
        if record.get("state") == "applying":
            open_entries[record["fault_id"]] = read_entry(record)
        elif record.get("state") == "healed":
            open_entries.pop(record["fault_id"], None)
    return list(open_entries.values())


def orphaned(project: str, owner_alive: bool) -> list[Entry]:
    """Pending faults nobody alive will heal: their applying process is gone (or, for entries
    that do not name it, the project's owner is)."""
    return [e for e in pending(project) if not (pid_alive(e.pid) if e.pid is not None else owner_alive)]
