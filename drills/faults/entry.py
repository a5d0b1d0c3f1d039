"""One applied fault as the ledger stores it, and the two writes a fault's life makes to it.

The fault protocol (`drills.faults.base.apply`) writes here before a fault touches anything; the
reading side, which needs every kind's heal actions, is `drills.faults.ledger`.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drills.core.local_state import ledger_file
from drills.faults.actions import HealAction


@dataclass(frozen=True)
class Entry:
    """One applied fault and the data its heal needs (see `drills.faults.heal`)."""

    fault_id: str
    kind: str
    project: str
    heal: tuple[HealAction, ...]  # run in order
    applied_at: float = field(default_factory=time.time)
    # The process that applied it. A drill against a `drill stack up` stack owns faults, not the
    # project: while this process lives, its faults are its own to heal (None: an older ledger).
    pid: int | None = field(default_factory=os.getpid)

    def to_json(self) -> dict[str, Any]:
        return {"fault_id": self.fault_id, "kind": self.kind, "project": self.project,
                "heal": [action.to_json() for action in self.heal], "applied_at": self.applied_at, "pid": self.pid}


def _append(path: Path, record: dict[str, Any]) -> None:
    with path.open("a") as fh:
        fh.write(json.dumps(record) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def ledger_path(project: str) -> Path:
    return ledger_file(project)


def record_applying(entry: Entry) -> None:
    _append(ledger_path(entry.project), {"state": "applying", **entry.to_json()})


def record_healed(project: str, fault_id: str) -> None:
    _append(ledger_path(project), {"state": "healed", "fault_id": fault_id, "at": time.time()})
