"""The backups of the drill running in this process, per compose project.

The scheduler adds each backup here (and to the history); the `restore-backup` fault, which only
gets the stack, its parameters and a fault id (`drills.faults.registry.Inject`), finds the latest
backup here and records its restore through the same recorder and clock as the drill.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drills.backup.model import BACKUP, Backup, latest_ok
from drills.history import Recorder

Clock = Callable[[], float]


@dataclass
class Catalog:
    project: str
    recorder: Recorder
    clock: Clock
    directory: Path  # where dumps and snapshots land on the host (under the run's reports dir)
    backups: list[Backup] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, backup: Backup) -> None:
        with self._lock:
            self.backups.append(backup)
        self.recorder.event(BACKUP, backup.ended_s, **backup.to_event_data())

    def latest(self, component: str | None = None, method: str | None = None) -> Backup | None:
        with self._lock:
            return latest_ok(list(self.backups), component=component, method=method)

    def event(self, name: str, **data: Any) -> float:
        at = self.clock()
        self.recorder.event(name, at, **data)
        return at


_CATALOGS: dict[str, Catalog] = {}
_LOCK = threading.Lock()


def open_catalog(project: str, recorder: Recorder, clock: Clock, directory: Path) -> Catalog:
    directory.mkdir(parents=True, exist_ok=True)
    catalog = Catalog(project, recorder, clock, directory)
    with _LOCK:
        _CATALOGS[project] = catalog
    return catalog


def get(project: str) -> Catalog | None:
    with _LOCK:
        return _CATALOGS.get(project)


def close_catalog(project: str) -> None:
    with _LOCK:
        _CATALOGS.pop(project, None)
