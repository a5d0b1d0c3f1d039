"""What the workload tests share: a thread-safe list of ops (the sink they give their clients, History's
stand-in), and waiting for a condition."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from drills.core.history import Op


class Ops:
    """A thread-safe list sink (the drill's History stands here)."""

    def __init__(self) -> None:
        self._ops: list[Op] = []
        self._lock = threading.Lock()

    def __call__(self, op: Op) -> None:
        with self._lock:
            self._ops.append(op)

    def of(self, signal: str) -> list[Op]:
        with self._lock:
            return [o for o in self._ops if o.signal == signal]


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> float:
    """Seconds until `condition()` held; AssertionError naming `what` after `timeout_s`."""
    t0 = time.monotonic()
    while not condition():
        if time.monotonic() - t0 > timeout_s:
            raise AssertionError(f"{what} not within {timeout_s} s")
        time.sleep(0.05)
    return time.monotonic() - t0
