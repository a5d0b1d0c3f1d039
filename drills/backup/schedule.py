"""A backup every `interval`, in a background thread, while the workload runs.

Backups start at fixed times (start, start + interval, ...): one that overruns its slot makes the
next start late, never two at once; a slot missed entirely is skipped. Each attempt, ok or failed
(a failed one is what a real schedule meets during an outage), is added to the catalog, which
records it as a `BackupRecorded` event (drills.core.events) in the history.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from drills.backup.catalog import Catalog
from drills.backup.model import Backup, next_slot
from drills.backup.target import BackupStack, method_of
from drills.core.history import Recorder

log = logging.getLogger(__name__)

TakeBackup = Callable[[BackupStack, str, Path, Callable[[], float]], Backup]


def backup_function(stack: BackupStack, component: str, method: str) -> TakeBackup:
    """How the stack's `component` is backed up by `method` (dump | snapshot): its adapter's, found
    through the registry (`drills.components.registry`); ValueError when it has none."""
    return method_of(stack, component, method).take


class BackupSchedule:
    def __init__(self, stack: BackupStack, catalog: Catalog, *, component: str, method: str, interval_s: float,
                 take: TakeBackup | None = None) -> None:
        self.stack = stack
        self.catalog = catalog
        self.component = component
        self.method = method
        self.interval_s = interval_s
        self.take = take or backup_function(stack, component, method)
        self._stop = threading.Event()
        self._completed = threading.Event()  # set by the first backup that succeeds
        self._thread: threading.Thread | None = None
        self.count = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=f"backup-{self.component}", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        clock = self.catalog.clock
        start = due = clock()
        while not self._stop.is_set():
            # The next slot after the backup's recorded end: the rule the rpo checker applies to the
            # records (a later clock reading could skip a slot the record says was still ahead).
            due = next_slot(start, self.once(due).ended_s, self.interval_s)
            if self._stop.wait(max(0.0, due - clock())):
                break

    def once(self, due: float | None = None) -> Backup:
        """One backup, recorded with the slot it was due at (the RPO checker measures from slots)."""
        self.count += 1
        backup_id = f"{self.component}-{self.method}-{self.count:03d}"
        started = self.catalog.clock()
        try:
            backup = self.take(self.stack, backup_id, self.catalog.directory, self.catalog.clock)
        except Exception as exc:
            log.info("backup %s failed: %s", backup_id, exc)
            backup = Backup(backup_id, self.component, self.method, started, self.catalog.clock(), False,
                            error=f"{type(exc).__name__}: {exc}"[:500])
        backup = dataclasses.replace(backup, due_s=started if due is None else due)
        self.catalog.add(backup)
        if backup.ok:
            self._completed.set()
        return backup

    def wait_completed(self, timeout_s: float) -> bool:
        """Wait until one backup has succeeded (True), or `timeout_s` passed (False)."""
        return self._completed.wait(timeout_s)

    def stop(self, timeout_s: float = 120.0) -> None:
        """Stop taking backups; waits for one in progress to finish (it is recorded)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def close(self) -> None:
        """Stop for good (the restore step, if any, is over)."""
        self.stop()


class BackupSection(Protocol):
    """A scenario's `backup:` (`drills.files.scenario_schema.BackupSpec`)."""

    @property
    def component(self) -> str: ...
    @property
    def method(self) -> str: ...
    @property
    def interval(self) -> float: ...


class Plan(Protocol):
    """What the schedule reads of a scenario (`drills.files.scenario.Scenario`, a layer above this one)."""

    @property
    def backup(self) -> BackupSection | None: ...


def start_backups(scenario: Plan, stack: BackupStack, recorder: Recorder, clock: Callable[[], float],
                  directory: Path) -> BackupSchedule | None:
    """The scenario's backup schedule, started (None when it has no `backup:` section)."""
    spec = scenario.backup
    if spec is None:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    catalog = Catalog(stack.project, recorder, clock, directory)
    schedule = BackupSchedule(stack, catalog, component=spec.component, method=spec.method, interval_s=spec.interval)
    schedule.start()
    return schedule
