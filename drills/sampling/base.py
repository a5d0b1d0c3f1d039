"""The loop every leader sampler shares: ask, every `every_s` seconds, who leads each thing it
samples, and record a `LeaderSample` (drills.core.events) for one whenever its leaders change (and once
at the start and once at the end), so the history stays small and a checker sees every transition
to within one period. What a round asks, and of whom, is each sampler's own (`read`).

`Sampling` is what a module of this package declares to be found by drills.sampling.registry:
the need it samples (the name checkers declare in `Checker.samples`) and how to start it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from drills.components.base import Reading
from drills.core.events import LeaderSample, write

if TYPE_CHECKING:
    from drills.core.history import Event


class Sampler:
    """A thread recording the leaders of each thing `read` reports (by its `component` key)."""

    name = "leader-sampler"

    def __init__(self, record: Callable[..., Event], now: Callable[[], float], *, every_s: float) -> None:
        self.record, self.now, self.every_s = record, now, every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._last: dict[str, Reading] = {}
        self.samples = 0
        self.error: str | None = None  # the last round that raised (a bug, or an engine gone): said at the end

    def read(self) -> dict[str, Reading]:
        """One round: component key -> who leads it now."""
        raise NotImplementedError

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():  # a sampler never started (its drill failed first) has nothing to join
            self._thread.join(5)

    def sample(self) -> None:
        """One round, recorded where the leaders changed (the thread calls it every `every_s`)."""
        try:
            readings = self.read()
        except Exception as exc:  # a round lost must not end the sampling of the drill
            self.error = f"{type(exc).__name__}: {exc}"
            return
        # Stamped when the answers are in hand: a slow answer (a management API that takes seconds
        # while its cluster is partitioned) says who led by then, never earlier than it was known.
        at = self.now()
        for component, reading in readings.items():
            last = self._last.get(component)
            if last is None or reading.leaders != last.leaders:
                write(self.record, LeaderSample(at, component, tuple(reading.leaders), reading.detail))
            self._last[component] = reading
        self.samples += 1

    def finish(self) -> None:
        """The closing sample of each component: the leaders it had last (what the checkers end on)."""
        said = {"error": self.error} if self.error else {}
        for component, last in self._last.items():
            write(self.record, LeaderSample(self.now(), component, tuple(last.leaders), {**last.detail, **said},
                                            final=True))

    def _run(self) -> None:
        while True:  # at least one round: a sampler closed at once still says what it saw
            at = self.now()
            self.sample()
            if self._stop.wait(max(0.0, self.every_s - (self.now() - at))):
                break
        self.finish()


# What starts the samplers of one need: (the stack, where to record, the drill's clock, what to
# sample: the subjects the expectations name, e.g. `postgres`, `rabbitmq@drill-events`) -> the
# samplers, started. It raises ValueError for a subject it cannot sample.
Start = Callable[[Any, Callable[..., "Event"], Callable[[], float], Collection[str]], list[Sampler]]


@dataclass(frozen=True)
class Sampling:
    """One kind of sample a checker may need (`Checker.samples`), named by the event kind its
    samplers record (drills.core.events), and how to start them. A module of this package declaring
    `SAMPLING = Sampling(...)` is found by drills.sampling.registry; the runner starts what the
    expectations of a drill need, and nothing else is edited."""

    need: str
    start: Start
