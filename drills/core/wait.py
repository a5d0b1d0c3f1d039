"""Wait strategies: a condition, a timeout and a poll interval; running one returns the time it took.

One mechanism serves two purposes: `drill stack up` waits for the stack to be ready, and a drill
waits for the system to recover after a fault, where the elapsed time *is* the measured recovery
time. A condition returns an `Observation` (ready or not, and what it saw); an exception raised by
a condition counts as "not ready" with the exception as what was seen, because during a boot or a
fault refused connections are the normal case.

    elapsed = Wait("2 streaming replicas", condition, timeout_s=60, interval_s=0.5).run()
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from drills.core.errors import StackError


@dataclass(frozen=True)
class Observation:
    ready: bool
    detail: str = ""
    # Waiting longer cannot make it ready (a container that exited while the stack boots, and
    # nothing will start it again): the wait gives up at once rather than at its timeout.
    hopeless: bool = False


Condition = Callable[[], Observation]
Clock = Callable[[], float]
Sleep = Callable[[float], None]


class WaitTimeout(StackError):
    """A wait gave up; carries how long it waited and what it saw last."""

    def __init__(self, description: str, elapsed_s: float, last: Observation) -> None:
        super().__init__(f"{description}: not ready after {elapsed_s:.1f} s (last seen: {last.detail or 'nothing'})")
        self.description = description
        self.elapsed_s = elapsed_s
        self.last = last


class Hopeless(WaitTimeout):
    """A wait gave up before its timeout: what it saw cannot get ready by waiting."""

    def __init__(self, description: str, elapsed_s: float, last: Observation) -> None:
        super().__init__(description, elapsed_s, last)
        self.args = (f"{description}: will not get ready, gave up after {elapsed_s:.1f} s "
                     f"(last seen: {last.detail or 'nothing'})",)


def observe(condition: Condition) -> Observation:
    try:
        return condition()
    except Exception as exc:  # a refused connection mid-boot is an observation, not an error
        text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        return Observation(False, f"{type(exc).__name__}: {text}" if text else type(exc).__name__)


@dataclass(frozen=True)
class Wait:
    description: str
    condition: Condition
    timeout_s: float = 60.0
    interval_s: float = 0.5

    def with_timeout(self, timeout_s: float) -> Wait:
        return replace(self, timeout_s=timeout_s)

    def with_interval(self, interval_s: float) -> Wait:
        return replace(self, interval_s=interval_s)

    def run(self, *, since: float | None = None, clock: Clock = time.monotonic, sleep: Sleep = time.sleep,
            cancel: threading.Event | None = None) -> float:
        """Poll until the condition holds; return seconds elapsed since `since` (default: the start
        of this call, on the same clock). Raises WaitTimeout when `timeout_s` passes first, counted
        from the start of this call."""
        start = clock()
        origin = start if since is None else since
        last = Observation(False, "not polled yet")
        while True:
            if cancel is not None and cancel.is_set():
                raise WaitTimeout(self.description + " (cancelled)", clock() - origin, last)
            last = observe(self.condition)
            now = clock()
            if last.ready:
                return now - origin
            if last.hopeless:
                raise Hopeless(self.description, now - origin, last)
            if now - start >= self.timeout_s:
                raise WaitTimeout(self.description, now - origin, last)
            sleep(min(self.interval_s, max(0.0, start + self.timeout_s - now)))


def run_all(waits: Sequence[Wait], *, since: float | None = None, clock: Clock = time.monotonic) -> dict[str, float]:
    """Run waits concurrently (one thread each); return each one's elapsed time by description.
    The first failure cancels the others and is raised once all have stopped."""
    origin = clock() if since is None else since
    results: dict[str, float] = {}
    errors: list[BaseException] = []
    cancel = threading.Event()
    lock = threading.Lock()

    def work(w: Wait) -> None:
        try:
            elapsed = w.run(since=origin, clock=clock, cancel=cancel)
            with lock:
                results[w.description] = elapsed
        except BaseException as exc:
            with lock:
                errors.append(exc)
            cancel.set()

    threads = [threading.Thread(target=work, args=(w,), name=f"wait:{w.description}", daemon=True) for w in waits]
    for t in threads:
        t.start()
    try:
        for t in threads:
            t.join()
    except BaseException:  # Ctrl-C or SIGTERM in the caller: stop polling a stack about to go away
        cancel.set()
        raise
    if errors:
        first = next((e for e in errors if not (isinstance(e, WaitTimeout) and e.description.endswith("(cancelled)"))),
                     errors[0])
        raise first
    return results
