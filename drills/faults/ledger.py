"""A crash-safe record of applied faults: `ledgers/<project>.jsonl` in the state directory
(`drills.records`), one line per fault: "applying" (written and fsynced BEFORE the fault is
applied), then "healed".

A fault whose "applying" line has no "healed" line is pending: `drill clean` (and every drill run
at start-up) heals pending faults whose applying process is gone (entries that do not name it: those
of projects whose owner process is gone).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from drills.records import ledger_file, pid_alive


@dataclass(frozen=True)
class Entry:
    """One applied fault and the data its heal needs (see `drills.faults.heal`)."""

    fault_id: str
    kind: str
    project: str
    heal: list[dict[str, Any]]  # heal actions, run in order
    applied_at: float = field(default_factory=time.time)
    # The process that applied it. A drill against a `drill stack up` stack owns faults, not the
    # project: while this process lives, its faults are its own to heal (None: an older ledger).
    pid: int | None = field(default_factory=os.getpid)


def _append(path: Path, record: dict[str, Any]) -> None:
    with path.open("a") as fh:
        fh.write(json.dumps(record) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def ledger_path(project: str) -> Path:
    return ledger_file(project)


def record_applying(entry: Entry) -> None:
    _append(ledger_path(entry.project), {"state": "applying", **asdict(entry)})


def record_healed(project: str, fault_id: str) -> None:
    _append(ledger_path(project), {"state": "healed", "fault_id": fault_id, "at": time.time()})


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
            record.pop("state")
            record.setdefault("pid", None)  # written before entries named their process
            open_entries[record["fault_id"]] = Entry(**record)
        elif record.get("state") == "healed":
            open_entries.pop(record["fault_id"], None)
    return list(open_entries.values())


def orphaned(project: str, owner_alive: bool) -> list[Entry]:
    """Pending faults nobody alive will heal: their applying process is gone (or, for entries
    that do not name it, the project's owner is)."""
    return [e for e in pending(project) if not (pid_alive(e.pid) if e.pid is not None else owner_alive)]
