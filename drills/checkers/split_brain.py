"""Two leaders at once (split brain): from the `LeaderSample`s the sampler records whenever the
set of nodes claiming leadership changes (drills.sampling.leaders).

Between two consecutive events the set is taken as constant, so an overlap is measured to within
the sampling period. More than one leader for longer than `max_overlap_s` fails; no samples at
all is "not measured", never a pass.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from drills.checkers.protocol import Checker, Evidence, ExpectationModel
from drills.checkers.verdict import Verdict, judge, not_measured
from drills.components import registry
from drills.core.events import LeaderSample, leader_samples
from drills.core.history import Event
from drills.spec.types import Duration, Why


def overlaps(events: Sequence[Event], component: str) -> list[tuple[float, float, tuple[str, ...]]]:
    """(start, end, leaders) of every stretch with more than one leader."""
    samples = leader_samples(events, component)
    found = []
    for cur, nxt in itertools.pairwise(samples):
        leaders = cur.leaders
        if len(leaders) > 1:
            found.append((cur.at, nxt.at, leaders))
    return found


def check_split_brain(events: Sequence[Event], component: str, *, max_overlap_s: float = 0.0,
                      why: str = "") -> Verdict:
    expectation = f"at most one {component} leader at any time (overlap <= {max_overlap_s:g} s)"
    bound = {"max_overlap_s": max_overlap_s}
    samples = leader_samples(events, component)
    if len(samples) < 2:
        return not_measured("split-brain", component, expectation, "the leaders were not sampled", bound=bound,
                            why=why)
    found = overlaps(events, component)
    longest = max((end - start for start, end, _ in found), default=0.0)
    total = sum(end - start for start, end, _ in found)
    leaderless = sum(nxt.at - cur.at for cur, nxt in itertools.pairwise(samples)
                     if not cur.leaders)
    measured = {"overlaps": len(found), "longest_overlap_s": round(longest, 3), "total_overlap_s": round(total, 3),
                "leaderless_s": round(leaderless, 3), "changes": len(samples) - 1}
    if found:
        start, _end, leaders = max(found, key=lambda f: f[1] - f[0])
        observed = (f"{len(found)} overlap(s), longest {longest:.2f} s ({', '.join(leaders)} from t={start:.2f} s)")
    else:
        observed = "never more than one leader"
    observed += f"; no leader for {leaderless:.1f} s in all"
    return Verdict("split-brain", component, expectation, observed, judge(longest <= max_overlap_s), measured, bound,
                   why)


# ---- the expectation and the checker -------------------------------------------------------------


# The components whose leaders are sampled for the whole cluster (a leadership per queue has no
# one leader to count or to double), the first the default: a Literal of the registry's.
LED: tuple[str, ...] = registry.kinds_with("cluster-leaders")
if TYPE_CHECKING:
    Led = str
else:
    Led = Literal[LED]


class SplitBrain(ExpectationModel):
    """Never two leaders at once (drills.checkers.split_brain), from the leaders sampled through the drill."""

    checker: Literal["split-brain"]
    component: Led = LED[0]
    max_overlap: Duration = Field(0.0, description="Longest time two nodes may both act as the writable leader.")
    why: Why


def _check(exp: SplitBrain, ev: Evidence) -> list[Verdict]:
    return [check_split_brain(ev.events, exp.component, max_overlap_s=exp.max_overlap, why=exp.why)]


# Two leaders are proven by the samples themselves; the time without one, and each change of
# leader, come before a doubled one.
CHECKER = Checker(SplitBrain, _check, subject=lambda exp, scenario: str(exp.get("component") or LED[0]),
                  samples=frozenset({LeaderSample.NAME}), invariant="safety",
                  trouble=("longest_overlap_s", "leaderless_s", "changes"))
