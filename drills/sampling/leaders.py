"""Who believes it leads, sampled through the drill: split brain and failovers made visible.

What a round asks, and of whom, is each component's (`LeaderRounds`: an adapter's
`Leaders.open`, or for a kind whose adapter has not moved in yet its `LEGACY_LEADERS` entry in
drills.components.registry): a PostgreSQL member claiming to be the writable leader, a queue's
leader as each broker node names it. A `RoundsSampler` runs one component's rounds every
`every_s` seconds and records a `LeaderSample` whenever a subject's leaders change
(drills.sampling.base). `start_samplers` starts one per component the expectations name, for the
checkers that declare they need leader samples (`SAMPLING`, found by drills.sampling.registry).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

from drills.components import registry
from drills.components.base import LeaderRounds, Reading
from drills.core.events import LeaderSample
from drills.sampling.base import Sampler, Sampling
from drills.stack.live import as_logged_in

if TYPE_CHECKING:
    from drills.core.history import Event
    from drills.stack.topology import StackView

__all__ = ["SAMPLING", "Reading", "RoundsSampler", "start_samplers"]


class RoundsSampler(Sampler):
    """One component's leader rounds, read every `rounds.every_s` seconds, closed with the sampler."""

    def __init__(self, rounds: LeaderRounds, record: Callable[..., Event], now: Callable[[], float], *,
                 name: str = "leader-sampler") -> None:
        self.name = name  # its thread's
        super().__init__(record, now, every_s=rounds.every_s)
        self.rounds = rounds

    def read(self) -> dict[str, Reading]:
        return dict(self.rounds.read())

    def close(self) -> None:
        super().close()
        self.rounds.close()


def sampleable(subject: str, qualifier: str | None) -> bool:
    """A kind's subject is the kind itself, or `kind@X` (X named) when its leadership is per X (a
    queue's: `rabbitmq@drill-events`)."""
    _, at, named = subject.partition("@")
    return bool(at and named) if qualifier else not at


def open_rounds(stack: StackView, kind: str, subjects: Collection[str]) -> tuple[LeaderRounds | None, list[str]]:
    """The rounds of one kind's subjects (its adapter's, else its legacy entry's), and the subjects
    they cannot sample. No rounds when none can be sampled."""
    bound = registry.of_group(stack.definition.bound(), kind)
    if bound is not None and bound.adapter.leaders is not None:
        leaders = bound.adapter.leaders
        taken = [s for s in subjects if sampleable(s, leaders.qualifier)]
        rounds = leaders.open(bound.spec, as_logged_in(stack), taken) if taken else None
    elif (legacy := registry.LEGACY_LEADERS.get(kind)) is not None:
        taken = [s for s in subjects if sampleable(s, legacy.qualifier)]
        rounds = legacy.open(stack, taken) if taken else None
    else:
        taken, rounds = [], None
    return rounds, [s for s in subjects if s not in taken]


def start_samplers(stack: StackView, record: Callable[..., Event], now: Callable[[], float],
                   components: Collection[str]) -> list[Sampler]:
    """A sampler for each kind of thing whose leaders the expectations need (`postgres`,
    `rabbitmq@<queue>`: drills.checkers.registry.sampled_of), started."""
    by_kind: dict[str, list[str]] = {}
    for subject in sorted(components):
        by_kind.setdefault(subject.partition("@")[0], []).append(subject)
    opened: list[tuple[str, LeaderRounds]] = []
    unknown: list[str] = []
    try:
        for kind, subjects in sorted(by_kind.items()):
            rounds, left = open_rounds(stack, kind, subjects)
            opened += [(kind, rounds)] if rounds is not None else []
            unknown += left
        if unknown:
            raise ValueError(f"no sampler of the leaders of {', '.join(sorted(unknown))}")
    except BaseException:
        for _, rounds in opened:  # none outlives a drill whose samplers cannot all start
            rounds.close()
        raise
    return [RoundsSampler(rounds, record, now, name=f"{kind}-leader-sampler").start() for kind, rounds in opened]


SAMPLING = Sampling(LeaderSample.NAME, start_samplers)
