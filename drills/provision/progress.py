"""How provisioning steps tell the user what they are doing (long work shows progress)."""

from __future__ import annotations

import sys
import time
from typing import Protocol


class Reporter(Protocol):
    def step(self, message: str) -> None: ...
    def ok(self, message: str) -> None: ...
    def detail(self, message: str) -> None: ...
    def warn(self, message: str) -> None: ...  # done without something: drills run with less


class ConsoleReporter:
    """Plain lines on stderr with elapsed time: readable in CI logs and in a terminal alike."""

    def __init__(self) -> None:
        self._t0 = time.monotonic()

    def _emit(self, mark: str, message: str) -> None:
        print(f"[{time.monotonic() - self._t0:6.1f}s] {mark} {message}", file=sys.stderr, flush=True)

    def step(self, message: str) -> None:
        self._emit("..", message)

    def ok(self, message: str) -> None:
        self._emit("ok", message)

    def detail(self, message: str) -> None:
        self._emit("  ", message)

    def warn(self, message: str) -> None:
        self._emit("!!", message)


class SilentReporter:
    def step(self, message: str) -> None:
        pass

    def ok(self, message: str) -> None:
        pass

    def detail(self, message: str) -> None:
        pass

    def warn(self, message: str) -> None:
        pass
