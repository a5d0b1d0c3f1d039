"""Leader changes through a drill (no flapping): from the `LeaderSample`s the sampler records
whenever the set of nodes claiming leadership changes (drills.sampling.leaders, as split_brain).

A *leader change* is a node taking leadership that did not hold it at the last moment anyone
did: the first leader seen is no change; a failover pg1 -> (none) -> pg2 is one; pg1 -> pg2 ->
pg1 is two (flapping); the same node back after a leaderless spell (a restart) is none; a second
node claiming leadership beside the first (split brain) is one, as that node took over writes.
A fault on the leader costs one change; more means the cluster elected again and again.

Fail closed: without the sampler's start and end events (fewer than two samples), or when no node
ever claimed leadership, nothing was shown and the verdict is NOT MEASURED, never a pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from drills.checkers.protocol import Checker, Evidence, ExpectationModel
from drills.checkers.verdict import Verdict, judge, not_measured
from drills.components import registry
from drills.core.events import LeaderSample, leader_samples
from drills.core.history import Event
from drills.spec.types import Int, Why

SHOWN = 5  # changes named in the verdict's text


def changes(events: Sequence[Event], component: str) -> list[tuple[float, tuple[str, ...], tuple[str, ...]]]:
    """(when, leaders before, leaders after) of every leader change, in time order."""
    samples = leader_samples(events, component)
    held: tuple[str, ...] = ()
    found = []
    for e in samples:
        leaders = tuple(sorted(e.leaders))
        if not leaders:
            continue  # leaderless: who leads next decides whether leadership changed
        if held and set(leaders) - set(held):
            found.append((e.at, held, leaders))
        held = leaders
    return found


def check_leader_changes(events: Sequence[Event], component: str, *, max_changes: int, why: str = "") -> Verdict:
    expectation = f"at most {max_changes} {component} leader change(s) through the drill (no flapping)"
    bound = {"max_changes": max_changes}
    samples = leader_samples(events, component)
    if len(samples) < 2:
        return not_measured("leader-changes", component, expectation, "the leaders were not sampled", bound=bound,
                            why=why)
    leaders_seen = sorted({n for e in samples for n in e.leaders})
    if not leaders_seen:
        return not_measured("leader-changes", component, expectation,
                            f"no node claimed leadership in {len(samples)} samples", bound=bound,
                            measured={"samples": len(samples)}, why=why)
    found = changes(events, component)
    new_leaders = sum(len(set(after) - set(before)) for _, before, after in found)
    measured = {"changes": len(found), "new_leaders": new_leaders, "samples": len(samples),
                "leaders_seen": leaders_seen}
    if found:
        shown = "; ".join(f"{', '.join(before)} -> {', '.join(after)} at t={at:.2f} s"
                          for at, before, after in found[:SHOWN])
        more = f"; and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
        observed = f"{len(found)} leader change(s): {shown}{more}"
    else:
        observed = f"no leader change ({', '.join(leaders_seen)} led throughout)"
    return Verdict("leader-changes", component, expectation, observed, judge(len(found) <= max_changes), measured,
                   bound, why)


# ---- the expectation and the checker -------------------------------------------------------------


# The components whose leaders are sampled for the whole cluster (a leadership per queue has no
# one leader to count or to double), the first the default: a Literal of the registry's.
LED: tuple[str, ...] = registry.kinds_with("cluster-leaders")
if TYPE_CHECKING:
    Led = str
else:
    Led = Literal[LED]


class LeaderChanges(ExpectationModel):
    """At most `max_changes` leader changes of a component through the drill: no flapping
    (drills.checkers.leader_changes), from the leaders sampled through the drill."""

    checker: Literal["leader-changes"]
    component: Led = LED[0]
    max_changes: Int = Field(..., ge=0, description="Leader changes allowed: 1 for a fault on the leader (one "
                                                    "failover), 0 for a fault that must not move leadership.")
    why: Why


def _check(exp: LeaderChanges, ev: Evidence) -> list[Verdict]:
    return [check_leader_changes(ev.events, exp.component, max_changes=exp.max_changes, why=exp.why)]


CHECKER = Checker(LeaderChanges, _check, subject=lambda exp, scenario: str(exp.get("component") or LED[0]),
                  samples=frozenset({LeaderSample.NAME}), trouble=("changes",))
