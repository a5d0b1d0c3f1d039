"""The backups one drill has taken.

The scheduler adds each backup here (and, as a `BackupRecorded` event, to the history); the drill hands
its catalog to the `restore-backup` fault (`drills.faults.base.FaultContext.backups`), which
restores the latest one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from drills.backup.model import Backup, latest_ok
from drills.core.events import BackupRecorded, write
from drills.core.history import Recorder

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
        write(self.recorder, BackupRecorded(backup.ended_s, backup.to_event_data()))

    def latest(self, component: str | None = None, method: str | None = None) -> Backup | None:
        with self._lock:
            return latest_ok(list(self.backups), component=component, method=method)

