"""What this machine remembers of Drills projects, kept under one state directory.

Layout under the state directory (`$XDG_STATE_HOME/drills`, else `~/.local/state/drills`):

    projects/<project>.json      who owns a compose project (pid, kind "run" | "stack")
    ledgers/<project>.jsonl      the faults applied to it (`drills.faults.ledger`)
    stacks/<project>.json        a stack's settings and secrets (`drills.stack.state`)
    stacks/<project>.override.yaml   Drills' own Compose override for it (`drills.stack.override`)

The stack, the faults and `drill clean` all read these records, so this module sits below them
all and imports nothing of Drills.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path


def state_dir() -> Path:
    root = Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state")) / "drills"
    (root / "ledgers").mkdir(parents=True, exist_ok=True)
    (root / "projects").mkdir(parents=True, exist_ok=True)
    return root


def ledger_file(project: str) -> Path:
    return state_dir() / "ledgers" / f"{project}.jsonl"


def owner_file(project: str) -> Path:
    return state_dir() / "projects" / f"{project}.json"


def stacks_dir() -> Path:
    path = state_dir() / "stacks"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)  # the settings hold the stack's secrets
    return path


def override_file(project: str) -> Path:
    return stacks_dir() / f"{project}.override.yaml"


@dataclass(frozen=True)
class Owner:
    project: str
    pid: int
    kind: str  # "run": removed when its owner dies; "stack": kept until `drill stack down`
    created: float


def register_owner(project: str, kind: str) -> Owner:
    owner = Owner(project, os.getpid(), kind, time.time())
    path = owner_file(project)
    # Atomically: a cleanup reading a half-written record would take the project for an orphan.
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(asdict(owner)))
    tmp.replace(path)
    return owner


def owners() -> list[Owner]:
    found = []
    for path in sorted((state_dir() / "projects").glob("*.json")):
        try:
            found.append(Owner(**json.loads(path.read_text())))
        except (OSError, ValueError, TypeError):
            continue
    return found


def forget(project: str) -> None:
    """Drop every record of `project`: its owner, fault ledger, saved settings and Compose override."""
    for path in (owner_file(project), ledger_file(project), stacks_dir() / f"{project}.json", override_file(project)):
        path.unlink(missing_ok=True)


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
