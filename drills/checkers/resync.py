"""Replicas back in sync after the heal: every member back, every replica's lag at zero.

Two measurements, one bound (`max_resync_s`, from the heal):

- `check_resync_samples`: from topology samples taken after the heal (member count, each
  replica's lag). The resync time is the time of the first sample from which the component stays
  in sync to the end of the samples: a replica that catches up and drops out again has not
  resynced. Its resolution is the sampling interval, reported as `resolution_s` (the true moment
  lies between the last out-of-sync sample and the first in-sync one).
- `check_resync`: from the runner's recovery wait (a readiness wait that polls the same things),
  when it only knows how long the wait took.

Unknown is never in sync: a replica whose lag cannot be read (None) counts as behind.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from drills.checkers.protocol import Checker, Evidence, ExpectationModel, FileView
from drills.checkers.verdict import Verdict, judge, not_measured
from drills.components import registry
from drills.core.yaml_locate import Loc
from drills.spec.types import Duration, Float, Why, duration_or


@dataclass(frozen=True, slots=True)
class TopologySample:
    at: float  # seconds since the drill started
    members: int  # members up and part of the cluster / replica set
    expected: int  # members the component should have
    lag: Mapping[str, float | None] = field(default_factory=dict)  # replica -> lag (bytes or s); None = unknown

    def in_sync(self, max_lag: float = 0.0) -> bool:
        return self.members >= self.expected and all(v is not None and v <= max_lag for v in self.lag.values())


def _expectation(max_resync_s: float, max_lag: float = 0.0) -> str:
    lag = "replication lag 0" if max_lag == 0 else f"replication lag <= {max_lag:g}"
    return f"back in sync (all members, {lag}) within {max_resync_s:g} s of the heal"


def resync_time(samples: Sequence[TopologySample], heal_at: float, max_lag: float = 0.0) -> float | None:
    """Seconds from the heal to the first sample of the final in-sync run; None if the last
    sample is not in sync (or there is no sample after the heal)."""
    after = sorted((s for s in samples if s.at >= heal_at), key=lambda s: s.at)
    if not after or not after[-1].in_sync(max_lag):
        return None
    i = len(after) - 1
    while i > 0 and after[i - 1].in_sync(max_lag):
        i -= 1
    return after[i].at - heal_at


def check_resync_samples(component: str, samples: Sequence[TopologySample], *, heal_at: float | None,
                         max_resync_s: float, max_lag: float = 0.0, why: str = "") -> Verdict:
    expectation = _expectation(max_resync_s, max_lag)
    bound: dict[str, float] = {"max_resync_s": max_resync_s}
    if max_lag:
        bound["max_lag"] = max_lag
    if heal_at is None:
        return not_measured("resync", component, expectation, "no heal happened", bound=bound, why=why)
    after = sorted((s for s in samples if s.at >= heal_at), key=lambda s: s.at)
    if not after:
        return not_measured("resync", component, expectation, "no topology sample after the heal", bound=bound, why=why)
    took = resync_time(after, heal_at, max_lag)
    flags = [s.in_sync(max_lag) for s in after]
    flaps = sum(1 for a, b in itertools.pairwise(flags) if a and not b)
    watched = after[-1].at - heal_at
    last = after[-1]
    measured: dict[str, float | int | None] = {"resync_s": None if took is None else round(took, 3),
                                               "samples": len(after), "watched_s": round(watched, 3),
                                               "lost_sync_again": flaps, "members": last.members,
                                               "expected_members": last.expected}
    if took is not None:
        i = next(k for k, s in enumerate(after) if s.at - heal_at >= took)
        measured["resolution_s"] = round(after[i].at - after[i - 1].at, 3) if i > 0 else 0.0
        return Verdict("resync", component, expectation,
                       f"in sync {took:.1f} s after the heal" + (f" (lost sync {flaps}x before)" if flaps else ""),
                       judge(took <= max_resync_s), measured, bound, why)
    behind = ", ".join(f"{k}={'?' if v is None else f'{v:g}'}" for k, v in sorted(last.lag.items())
                       if v is None or v > max_lag)
    state = f"{last.members}/{last.expected} members" + (f", behind: {behind}" if behind else "")
    if watched >= max_resync_s:
        return Verdict("resync", component, expectation, f"not in sync {watched:.1f} s after the heal: {state}",
                       judge(False), measured, bound, why)
    return not_measured("resync", component, expectation,
                        f"watched only {watched:.1f} s after the heal, not in sync yet: {state}",
                        bound=bound, measured=measured, why=why)


def check_resync(component: str, recovered_after_s: float | None, *, timed_out: bool, max_resync_s: float,
                 last_seen: str = "", why: str = "") -> Verdict:
    """`recovered_after_s`: from the heal to every member back and in sync (the recovery wait)."""
    expectation = _expectation(max_resync_s)
    bound = {"max_resync_s": max_resync_s}
    if timed_out:
        return Verdict("resync", component, expectation, f"not in sync when the wait gave up: {last_seen}",
                       judge(False), {"resync_s": None}, bound, why)
    if recovered_after_s is None:
        return not_measured("resync", component, expectation, "no recovery wait ran", bound=bound, why=why)
    return Verdict("resync", component, expectation, f"in sync {recovered_after_s:.1f} s after the heal",
                   judge(recovered_after_s <= max_resync_s), {"resync_s": round(recovered_after_s, 3)}, bound, why)


# ---- the expectation and the checker -------------------------------------------------------------


# The components with replicas to resync (those with dynamic roles: a leader and the others), as a
# Literal of the registry's.
REPLICATED: tuple[str, ...] = registry.kinds_with("roles")
if TYPE_CHECKING:
    Replicated = str
else:
    Replicated = Literal[REPLICATED]


class Resync(ExpectationModel):
    """Every member back and every replica caught up after the heal (drills.checkers.resync)."""

    checker: Literal["resync"]
    max_resync: Duration
    component: Replicated | None = Field(
        None, description="Default: the scenario's component.")
    max_lag: Float = Field(0, ge=0, description="Replication lag that still counts as in sync (bytes).")
    why: Why


def _check(exp: Resync, ev: Evidence) -> list[Verdict]:
    f = ev.facts
    return [check_resync(exp.component or ev.scenario.component or "stack", f.recovered_after_s,
                         timed_out=f.recovery_timed_out, max_resync_s=exp.max_resync, last_seen=f.recovery_last_seen,
                         why=exp.why)]


def _problems(exp: Mapping[str, Any], view: FileView) -> Iterable[tuple[Loc, str]]:
    if exp.get("component") is None and view.data.get("component") not in REPLICATED:
        yield (), f"say which component must resync: `component:` here or at the top ({', '.join(REPLICATED)})"
    bound, timeout = duration_or(exp.get("max_resync"), 0.0), view.recovery_timeout
    if bound is not None and timeout is not None and bound > timeout:
        yield ("max_resync",), (f"{bound:g} s is longer than recovery.timeout ({timeout:g} s): the drill would stop "
                                f"watching before the bound could be shown to hold or break")


CHECKER = Checker(
    Resync, _check, problems=_problems,
    subject=lambda exp, scenario: str(exp.get("component") or scenario.get("component") or "stack"),
    trouble=("resync_s",))
