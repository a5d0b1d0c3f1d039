"""Where a live stack's settings are kept between commands (`drill stack up`, later `status`/`down`).

One file per project under the Drills state directory, readable by its owner only: it holds the
run's generated secrets; beside it, Drills' own Compose override of the project
(`drills.stack.override`), the last `-f` of every Compose command on it. Both are removed when the
stack is taken down (`drills.core.local_state.forget`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from drills.core.errors import StackError
from drills.core.local_state import override_file, stacks_dir
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
    drop_override(project)


def write_override(project: str, text: str) -> Path:
    """Drills' Compose override of `project`, written (owner-only, atomically) unless it already
    holds `text`: every Compose command names it, and the settings keep the text, so a stack
    attached later, or a file pruned meanwhile, still finds it."""
    path = override_file(project)
    try:
        if path.read_text() == text:
            return path
    except OSError:
        pass  # not there yet
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    tmp.replace(path)
    return path


def drop_override(project: str) -> None:
    override_file(project).unlink(missing_ok=True)


def overridden() -> list[str]:
    """Projects with an override file here (one created and never started has no settings)."""
    return sorted(p.name.removesuffix(".override.yaml") for p in stacks_dir().glob("*.override.yaml"))
