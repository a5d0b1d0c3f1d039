"""A thread-safe list of ops: the sink the workload tests give their clients (History's stand-in)."""

from __future__ import annotations

import threading

from drills.history import Op


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
