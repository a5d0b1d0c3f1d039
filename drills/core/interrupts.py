"""SIGTERM and SIGHUP stop a drill the way Ctrl-C does, and no signal cuts a heal short.

A drill is stopped by more than a terminal's Ctrl-C: CI runners cancelling a job, `timeout`,
systemd and `docker stop` send SIGTERM (systemd and `timeout` to the whole process group), a
closed terminal or SSH session sends SIGHUP. Python's default for both is to die on the spot,
with the faults still applied and the stack still running. Under `trapped()`, SIGINT, SIGTERM
and SIGHUP all raise `Interrupted`, a KeyboardInterrupt: every `finally` and `except
KeyboardInterrupt` on the way out (heal, stack removal, journal) runs as it does for Ctrl-C.

Only the first signal raises. Once a drill unwinds, its heal and teardown must finish, so a
later signal (a second Ctrl-C, a CI runner's SIGTERM after its SIGINT) is reported and ignored;
SIGKILL stops at once, and `drill clean` then heals what is left. `shielded()` holds a first
signal back during work that must not stop halfway (healing, removing the stack).

Exit status of an interrupted command: 128 + the signal's number, as shells report a process
that signal ended: 130 Ctrl-C (SIGINT), 143 SIGTERM, 129 SIGHUP.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(KeyboardInterrupt):
    """A drill stopped by a signal; `exit_code` is what the command exits with."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def exit_code(exc: BaseException | None) -> int:
    """The exit status for an interruption: 128 + its signal; 130 for a plain KeyboardInterrupt."""
    return exc.exit_code if isinstance(exc, Interrupted) else 128 + signal.SIGINT


def describe(exc: BaseException) -> str:
    """How the drill was stopped, for its journal."""
    if isinstance(exc, Interrupted) and exc.signum != signal.SIGINT:
        return f"interrupted by {signal.Signals(exc.signum).name}"
    return "interrupted (Ctrl-C)" if isinstance(exc, KeyboardInterrupt) else f"stopped ({type(exc).__name__})"


@dataclass
class Trap:
    """What each signal does, as pure state (the OS handler below only calls `on_signal`)."""

    first: int | None = None  # the first signal received: the one that decides the exit status
    raised: bool = False  # `Interrupted` was raised: the drill is unwinding
    shields: int = 0  # depth of `shielded()` blocks the main thread is in

    def on_signal(self, signum: int) -> Interrupted | None:
        """The exception to raise now, if any."""
        if self.first is None:
            self.first = signum
        if self.raised or self.shields:
            return None
        return self.pending()

    def enter_shield(self) -> None:
        self.shields += 1

    def leave_shield(self, *, raise_on_exit: bool) -> Interrupted | None:
        """The exception to raise at the end of a shield: a signal it held back, if any."""
        self.shields -= 1
        return self.pending() if raise_on_exit and not self.shields else None

    def pending(self) -> Interrupted | None:
        """The first signal, once, if it has not been raised yet."""
        if self.first is None or self.raised:
            return None
        self.raised = True
        return Interrupted(self.first)


_active: list[Trap] = []  # the trap of the `trapped()` block the main thread is in (at most one)


def _current() -> Trap | None:
    return _active[0] if _active else None


def _note(text: str) -> None:
    # os.write, not print: a handler may run in the middle of the main thread's own write to
    # stderr, and a buffered stream refuses a reentrant call.
    with suppress(OSError):
        os.write(2, f"{text}\n".encode())


def _handle(signum: int, frame: object) -> None:
    trap = _current()
    if trap is None:  # cannot happen: the handlers are restored before the trap is dropped
        raise Interrupted(signum)
    name = signal.Signals(signum).name
    interrupted = trap.on_signal(signum)
    if interrupted is not None:
        _note(f"{name}: stopping; healing every fault and removing what this run started first "
              "(SIGKILL stops at once; `drill clean` then heals)")
        raise interrupted
    if trap.first == signum and not trap.raised:
        _note(f"{name}: stopping once the heal or teardown in progress is done")
    else:
        _note(f"{name}: already stopping; still healing and removing what this run started "
              "(SIGKILL stops at once; `drill clean` then heals)")


@contextmanager
def trapped() -> Iterator[Trap | None]:
    """SIGINT, SIGTERM and SIGHUP raise `Interrupted` inside the block (main thread only; nested
    blocks share the outer trap). Yields the trap, or None where signals cannot be trapped."""
    if _active or threading.current_thread() is not threading.main_thread():
        yield _current()
        return
    trap = Trap()
    _active.append(trap)
    try:
        previous = {s: signal.signal(s, _handle) for s in SIGNALS}
        try:
            yield trap
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler if handler is not None else signal.SIG_DFL)
    finally:
        _active.clear()


@contextmanager
def shielded(*, raise_on_exit: bool = True) -> Iterator[None]:
    """A first signal arriving inside the block is held until the block is done, then raised
    (`raise_on_exit`), or left for `raise_pending()`. Without `trapped()`, no effect."""
    trap = _current()
    if trap is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    trap.enter_shield()
    try:
        yield
    except BaseException:
        trap.leave_shield(raise_on_exit=False)  # already on the way out: the held signal changes nothing
        raise
    if (interrupted := trap.leave_shield(raise_on_exit=raise_on_exit)) is not None:
        raise interrupted


def raise_pending() -> None:
    """Raise a signal that a shield held back, if there is one."""
    trap = _current()
    if trap is not None and not trap.shields and (interrupted := trap.pending()) is not None:
        raise interrupted
