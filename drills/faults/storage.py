"""Storage faults: disk loss, data corruption, total failure of a component.

Each ends the way the policy prescribes: "spin a new server in the same cluster with the same
hostname" — the container is recreated by Compose under the same service name, on a new empty
volume, and the database's own replication has to re-sync it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drills.faults import ledger
from drills.faults.base import FaultTarget, apply, service_of, targets, volumes_of

if TYPE_CHECKING:
    from docker.models.containers import Container

CORRUPT_SCRIPT = r"""
set -e
# Overwrite 4 KiB in the middle of the largest data files: what a failing disk or a bad write does.
find /data -type f -size +16k -printf '%s %p\n' | sort -rn | head -n "$1" | while read -r size path; do
  dd if=/dev/urandom of="$path" bs=4096 count=1 seek=$(( size / 8192 )) conv=notrunc status=none
  echo "corrupted $path"
done
"""


def _destroy(stack: FaultTarget, containers: list[Container]) -> None:
    """Kill the servers and destroy their disks (the volumes, then nothing is left of the node)."""
    for c in containers:
        vols = volumes_of(c)
        c.remove(force=True)
        for name in vols:
            stack.client.volumes.get(name).remove(force=True)


def _kill_all(containers: list[Container]) -> None:
    for c in containers:
        c.kill()


def disk_loss(stack: FaultTarget, params: dict[str, Any], fault_id: str) -> ledger.Entry:
    found = targets(stack, params["target"])
    services = sorted({service_of(c) for c in found})
    heal = [{"action": "compose-up", "services": services}]
    return apply(stack, "disk-loss", fault_id, heal, lambda: _destroy(stack, found))


def total_failure(stack: FaultTarget, params: dict[str, Any], fault_id: str) -> ledger.Entry:
    """Every replica of a component lost at once; `keep_disks: true` models a power cut instead."""
    found = targets(stack, params["target"])
    services = sorted({service_of(c) for c in found})
    heal = [{"action": "compose-up", "services": services}]
    if params.get("keep_disks"):
        return apply(stack, "total-failure", fault_id, heal, lambda: _kill_all(found))
    return apply(stack, "total-failure", fault_id, heal, lambda: _destroy(stack, found))


def corrupt(stack: FaultTarget, params: dict[str, Any], fault_id: str) -> ledger.Entry:
    """Damage the node's data files while it is down, then start it on the damaged disk."""
    found = targets(stack, params["target"])
    files = int(params.get("files", 3))
    heal = [{"action": "start", "container": c.name} for c in found]

    def do() -> None:
        base = params.get("helper_image") or _helper_image(stack)
        for c in found:
            c.stop(timeout=10)
            for name in volumes_of(c):
                stack.client.containers.run(
                    base, ["sh", "-c", CORRUPT_SCRIPT, "corrupt", str(files)], remove=True,
                    network_mode="none", volumes={name: {"bind": "/data", "mode": "rw"}},
                    labels={"io.drills.managed": "true", "com.docker.compose.project": stack.project},
                )
            c.start()

    return apply(stack, "corrupt", fault_id, heal, do)


def _helper_image(stack: FaultTarget) -> str:
    from drills.errors import FaultError
    from drills.provision import base_image

    found = base_image.resolve(stack.client)
    if found is None:
        raise FaultError("no base image for the corruption helper", hint="run `drill setup`")
    return found
