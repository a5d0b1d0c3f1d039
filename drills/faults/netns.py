"""Run network tools (iptables, tc) inside a container's network namespace.

On Linux with root, `nsenter -t PID -n` from the host needs nothing inside the container (stack
images carry no iptables). Docker Desktop users would need a helper container sharing the target's
namespace (`--network container:X --cap-add NET_ADMIN`), the way Pumba does it; not built yet.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import TYPE_CHECKING

from drills.core.errors import FaultError

if TYPE_CHECKING:
    from docker.models.containers import Container


def pid_of(container: Container) -> int | None:
    container.reload()
    pid = int(container.attrs["State"].get("Pid") or 0)
    return pid or None


def run(container: Container, argv: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    pid = pid_of(container)
    if pid is None:
        raise FaultError(f"{container.name} is not running: no network namespace to change")
    nsenter = shutil.which("nsenter")
    if nsenter is None:
        raise FaultError("nsenter not found", hint="apt-get install util-linux")
    # Its own session: a signal to the runner's process group (a second Ctrl-C, systemd, `timeout`)
    # must not kill the `iptables -D` of a heal; the runner decides when to stop (drills.core.interrupts).
    done = subprocess.run([nsenter, "-t", str(pid), "-n", *argv], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=30, start_new_session=True)
    if check and done.returncode != 0:
        raise FaultError(f"`{' '.join(argv)}` in {container.name} failed: {done.stderr.strip()[:300]}",
                         hint="network faults need root on a Linux Docker host, with iptables and iproute2")
    return done


def interfaces(container: Container) -> list[str]:
    done = run(container, ["ip", "-o", "link", "show"])
    names = []
    for line in done.stdout.splitlines():
        name = line.split(":")[1].strip().split("@")[0]
        if name != "lo":
            names.append(name)
    return names
