"""Healing: run the heal actions of ledger entries, newest fault first, and record them healed.

The actions are typed data (`drills.faults.actions`) each fault kind's module defines; this module
only runs them. An entry is recorded as healed only when every one of its actions succeeded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drills.core.errors import FaultError
from drills.faults import ledger
from drills.faults.actions import Compose, HealContext

if TYPE_CHECKING:
    import docker


def heal_entry(client: docker.DockerClient, entry: ledger.Entry, compose: Compose | None = None) -> None:
    """Undo one fault. Respawning a destroyed node (`compose-up`) needs the run's compose project; a
    cleanup without it skips the respawn, since it removes the whole project anyway."""
    ctx = HealContext(client, entry.project, compose)
    errors = []
    for action in entry.heal:
        try:
            action.heal(ctx)
        except Exception as exc:  # keep healing the rest; report all at the end
            errors.append(f"{action.describe()}: {exc}")
    if errors:
        raise FaultError(f"healing {entry.kind} ({entry.fault_id}) left problems: {'; '.join(errors)}",
                         hint="run `drill clean` to retry, or remove the project's containers by hand")
    ledger.record_healed(entry.project, entry.fault_id)


def heal_pending(client: docker.DockerClient, project: str, compose: Compose | None = None) -> list[str]:
    """Heal every pending fault of `project`, newest first; returns what was healed."""
    return heal_entries(client, ledger.pending(project), compose)


def heal_entries(client: docker.DockerClient, entries: list[ledger.Entry], compose: Compose | None = None) -> list[str]:
    """Heal these pending faults, newest first; returns what was healed."""
    healed = []
    for entry in reversed(entries):
        heal_entry(client, entry, compose)
        healed.append(f"{entry.kind} {entry.fault_id}")
    return healed
