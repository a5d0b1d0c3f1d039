"""A crash-safe record of applied faults and of the projects a runner owns.

Layout under the state directory (`$XDG_STATE_HOME/drills`, else `~/.local/state/drills`):

    projects/<project>.json      who owns a compose project (pid, kind "run" | "stack")
    ledgers/<project>.jsonl      one line per fault: "applying" (written and fsynced BEFORE the
                                 fault is applied), then "healed"

A fault whose "applying" line has no "healed" line is pending: `drill clean` (and every drill run
at start-up) heals pending faults whose applying process is gone (entries that do not name it: those
of projects whose owner process is gone).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drills.faults.actions import HealAction


def state_dir() -> Path:
    root = Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state")) / "drills"
    (root / "ledgers").mkdir(parents=True, exist_ok=True)
    (root / "projects").mkdir(parents=True, exist_ok=True)
    return root


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

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> Entry:
        from drills.faults.registry import heal_action

        entry = cls(fault_id=record["fault_id"], kind=record["kind"], project=record["project"],
                    heal=tuple(heal_action(a) for a in record["heal"]),
                    pid=record.get("pid"))  # None: written before entries named their process
        return replace(entry, applied_at=record["applied_at"]) if "applied_at" in record else entry


@dataclass(frozen=True)
class Owner:
    project: str
    pid: int
    kind: str  # "run": removed when its owner dies; "stack": kept until `drill stack down`
    created: float


def _append(path: Path, record: dict[str, Any]) -> None:
    with path.open("a") as fh:
        fh.write(json.dumps(record) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def ledger_path(project: str) -> Path:
    return state_dir() / "ledgers" / f"{project}.jsonl"


def record_applying(entry: Entry) -> None:
    _append(ledger_path(entry.project), {"state": "applying", **entry.to_json()})


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
            open_entries[record["fault_id"]] = Entry.from_json(record)
        elif record.get("state") == "healed":
            open_entries.pop(record["fault_id"], None)
    return list(open_entries.values())


def orphaned(project: str, owner_alive: bool) -> list[Entry]:
    """Pending faults nobody alive will heal: their applying process is gone (or, for entries
    that do not name it, the project's owner is)."""
    return [e for e in pending(project) if not (pid_alive(e.pid) if e.pid is not None else owner_alive)]


def register_owner(project: str, kind: str) -> Owner:
    owner = Owner(project, os.getpid(), kind, time.time())
    path = state_dir() / "projects" / f"{project}.json"
    # Atomically: a cleanup reading a half-written record would take the project for an orphan.
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(asdict(owner)))
    tmp.replace(path)
    return owner


def forget(project: str) -> None:
    for path in (state_dir() / "projects" / f"{project}.json", ledger_path(project)):
        path.unlink(missing_ok=True)


def owners() -> list[Owner]:
    found = []
    for path in sorted((state_dir() / "projects").glob("*.json")):
        try:
            found.append(Owner(**json.loads(path.read_text())))
        except (OSError, ValueError, TypeError):
            continue
    return found


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is dead for our purposes (its runner was killed and not yet reaped).
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return "\nState:\tZ" not in status
