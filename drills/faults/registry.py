"""Fault kinds by name, as scenario files spell them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drills.faults import ledger
from drills.faults.base import FaultTarget
from drills.faults.netem import netem
from drills.faults.partition import partition
from drills.faults.process import kill, pause, restart, stop
from drills.faults.restore import restore_backup
from drills.faults.storage import corrupt, disk_loss, total_failure

Inject = Callable[[FaultTarget, dict[str, Any], str], ledger.Entry]

FAULTS: dict[str, Inject] = {
    "kill": kill,
    "stop-respawn": stop,
    "pause": pause,
    "restart-services": restart,
    "partition": partition,
    "latency": netem,
    "loss": netem,
    "disk-loss": disk_loss,
    "corrupt": corrupt,
    "total-failure": total_failure,
    "restore-backup": restore_backup,
}
