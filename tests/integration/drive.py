"""Running the `drill` command as a user does, for the integration tests that only need it to end:
its stack's project name (from "starting stack P"), its exit code and what it printed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.integration.test_run_sigkill import read_until

ROOT = Path(__file__).resolve().parents[2]


def finish(proc: subprocess.Popen[str], seen: list[str], timeout_s: float) -> int:
    assert proc.stderr is not None
    try:
        seen += proc.stderr.readlines()
        return proc.wait(timeout_s)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()


def drill_to_end(*args: str, timeout_s: float = 900) -> tuple[str, int, str]:
    """`drill ARGS` from the repository's root, to its end: (project, exit code, stderr)."""
    proc = subprocess.Popen([sys.executable, "-m", "drills", *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    seen: list[str] = []
    try:
        project = read_until(proc, r"starting stack (\S+)", 120, seen).group(1)
    except BaseException:
        proc.kill()
        finish(proc, seen, 60)
        raise
    rc = finish(proc, seen, timeout_s)
    return project, rc, "".join(seen)
