"""Where a live stack's settings are kept between commands (`drill stack up`, later `status`/`down`).

One file per project under the Drills state directory, readable by its owner only: it holds the
run's generated secrets. Removed when the stack is taken down.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from drills.core.errors import StackError
from drills.core.local_state import stacks_dir
from drills.stack.env import StackSettings, settings_from_json, settings_to_json


def save(settings: StackSettings) -> Path:
    path = stacks_dir() / f"{settings.project}.json"
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(settings_to_json(settings), fh, indent=2)
    tmp.replace(path)
    return path


def load(project: str) -> StackSettings:
    path = stacks_dir() / f"{project}.json"
    try:
        return settings_from_json(json.loads(path.read_text()))
    except FileNotFoundError:
        raise StackError(f"no stack {project!r} is known here",
                         hint="`drill stack status` lists nothing? start one with `drill stack up`") from None
    except ValueError as exc:
        raise StackError(f"{path} is unreadable: {exc}") from exc


def known() -> list[str]:
    """Projects with saved settings, oldest first."""
    files = sorted(stacks_dir().glob("*.json"), key=lambda p: p.stat().st_mtime)
    return [p.stem for p in files]


def forget(project: str) -> None:
    (stacks_dir() / f"{project}.json").unlink(missing_ok=True)
