"""Every kind of sample, found once: each module of this package that defines `SAMPLING` (a
`drills.sampling.base.Sampling`) samples one need, under the name checkers declare it by
(`Checker.samples`). The runner starts the samplers a drill's expectations need from this map and
nothing else (`start`); `drill validate` reports a need no module samples (`unknown`), so a checker
asking for one fails before any drill, never by being silently not sampled.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from drills.core.discovery import Declared, declared, indexed, instance_of
from drills.core.errors import RegistryError
from drills.sampling.base import Sampler, Sampling

if TYPE_CHECKING:
    from drills.core.history import Event


def _discover() -> dict[str, Sampling]:
    found: list[Declared[Sampling]] = declared("drills.sampling", "SAMPLING", instance_of(Sampling), "a Sampling",
                                               skip=("base", "registry"), required=False)
    return dict(sorted(indexed(((d.module, d.value) for d in found), lambda s: s.need, "sampler").items()))


SAMPLERS: dict[str, Sampling] = _discover()


def unknown(needs: Iterable[str]) -> list[str]:
    """The needs no sampler samples, sorted."""
    return sorted(set(needs) - set(SAMPLERS))


def start(plan: Mapping[str, Collection[str]], stack: Any, record: Callable[..., Event],
          now: Callable[[], float]) -> list[Sampler]:
    """The samplers of a drill, started: for each need of `plan` (need -> the subjects to sample,
    drills.checkers.registry.samples_plan), its kind's. A need no kind samples is an error before
    any is started (`drill validate` reports it first)."""
    if missing := unknown(plan):
        raise RegistryError(f"no sampler records {', '.join(missing)} (known: {', '.join(SAMPLERS) or 'none'})",
                           hint="a checker declares a sample drills.sampling does not take; add a module there "
                                "defining SAMPLING for it")
    samplers: list[Sampler] = []
    try:
        for need, subjects in sorted(plan.items()):
            samplers += SAMPLERS[need].start(stack, record, now, subjects)
    except BaseException:
        for sampler in samplers:  # those already started do not outlive a drill that cannot start
            sampler.close()
        raise
    return samplers
