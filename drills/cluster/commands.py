"""Running the system's `ip`, `iptables`, `docker` and `nsenter` with argument lists."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence

from drills.core.errors import SetupError

TIMEOUT_S = 120.0


def run(args: Sequence[str], *, hint: str, timeout_s: float = TIMEOUT_S) -> str:
    """Stdout of `args`; a SetupError with its stderr and `hint` when it fails."""
    result = attempt(args, timeout_s=timeout_s)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise SetupError(f"`{' '.join(args)}` failed (exit {result.returncode}): {' '.join(detail)[:400]}",
                         hint=hint)
    return result.stdout


def attempt(args: Sequence[str], *, timeout_s: float = TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    """Run `args` whatever its exit code (checks whether something exists are expected to fail)."""
    try:
        return subprocess.run(list(args), capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise SetupError(f"`{' '.join(args)}` did not end within {timeout_s:.0f} s",
                         hint="the machine may be overloaded; run the command again") from exc


def require(*tools: str) -> None:
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        raise SetupError(f"missing commands: {' '.join(missing)}",
                         hint="install iproute2, iptables, util-linux and docker.io (Debian/Ubuntu: apt-get install)")
