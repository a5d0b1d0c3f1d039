"""A replica took over: the mechanism the policy names for a lost leader ("the system will continue
working using a replica"), shown, not inferred from an outage bound: PostgreSQL's leader, or the
leader of a RabbitMQ quorum queue (`component: rabbitmq`, `queue: drill-events`; its samples are
`rabbitmq@drill-events`, drills.components._rabbitmq_leaders).

An availability bound alone cannot tell a failover from a restart: a killed leader respawned after
a 15 s hold takes its own key back, and its ~17 s outage fits a 20 s bound although no replica was
ever promoted. This checker reads the leaders sampled through the drill (drills.sampling.leaders,
as split_brain) and the nodes each fault hit (the `FaultApplied` events' `resolved`):

    hit        the nodes a fault hit while they were leading (the leader sampled last before it);
    took over  the first node other than those to claim leadership after the injection: a
               failover; the hit node leading again first (after a leaderless spell: a restart, or
               a frozen leader resuming) is no failover;
    within     optional: the takeover at most this long after the injection;
    back as a replica
               the hit node ends the drill not leading while another node does: it came back under
               the new leader instead of taking the lock back (a resumed frozen leader that did is
               caught here, though a replica took over first).

Fail closed: no leader samples, no fault, or a fault that hit no leading node: NOT MEASURED.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from drills.checkers.protocol import Checker, Evidence, ExpectationModel, FileView
from drills.checkers.verdict import Verdict, judge_all, not_measured
from drills.components import registry
from drills.core.events import FaultApplied, LeaderSample, Phase, leader_samples, of_kind, phases
from drills.core.history import Event
from drills.core.yaml_locate import Loc
from drills.spec.types import Bool, Duration, Why

# The components whose leaders a drill samples, the first the default (built as the scenario
# schema builds its unions: a Literal of what the registry holds).
LED: tuple[str, ...] = registry.kinds_with("leaders")
if TYPE_CHECKING:
    Led = str
else:
    Led = Literal[LED]


def sampled_as(component: str, queue: str | None) -> str:
    """What the leaders of an expectation's component are sampled as: the component, or, when its
    leadership is per queue (a RabbitMQ cluster has a leader per quorum queue, none of its own),
    `<component>@<queue>`."""
    return registry.sampled_as(component, queue)


@dataclass(frozen=True)
class Takeover:
    injected: float  # the fault that hit the leader was applied
    hit: tuple[str, ...]  # the leading nodes it hit
    by: str | None  # the node that took over (None: nobody)
    at: float | None
    back_first: float | None  # a hit node led again before anyone else did (a restart, a resume)
    final: tuple[str, ...]  # the leaders of the last sample


def _leaders(e: LeaderSample) -> tuple[str, ...]:
    return tuple(sorted(e.leaders))


def takeover(events: Sequence[Event], component: str) -> Takeover | None:
    """What followed the first fault that hit a leading node of `component`; None when no fault did
    (or nothing was sampled before it)."""
    samples = leader_samples(events, component)
    injects = sorted(p.at for p in phases(events, Phase.INJECT))
    for fault in sorted(of_kind(events, FaultApplied), key=lambda e: e.at):
        # Who led when the injection began: a sample taken while it was being applied may already
        # show the leader gone.
        began = max((at for at in injects if at <= fault.at), default=fault.at)
        before = [s for s in samples if s.at <= began]
        if not before:
            continue
        hit = tuple(sorted(set(_leaders(before[-1])) & set(fault.resolved)))
        if not hit:
            continue
        after = [s for s in samples if s.at > began]
        by = at = back_first = leaderless_at = None
        for s in after:
            leaders = _leaders(s)
            others = [n for n in leaders if n not in hit]
            if others:
                by, at = others[0], s.at
                break
            if back_first is None and set(leaders) & set(hit) and leaderless_at is not None and leaderless_at < s.at:
                back_first = s.at
            if not leaders and leaderless_at is None:
                leaderless_at = s.at  # the samples are in time order: the first leaderless one is the earliest
        final = _leaders(samples[-1]) if samples else ()
        return Takeover(fault.at, hit, by, at, back_first, final)
    return None


def check_failover(events: Sequence[Event], component: str, *, within_s: float | None = None,
                   back_as_replica: bool = True, why: str = "") -> Verdict:
    parts = ["a node other than the leader hit took over"]
    if within_s is not None:
        parts[0] += f" within {within_s:g} s of the fault"
    if back_as_replica:
        parts.append("the node hit ended the drill not leading, under the new leader")
    expectation = f"{component}: " + "; ".join(parts)
    bound = {"within_s": within_s} if within_s is not None else {}
    samples = leader_samples(events, component)
    if len(samples) < 2:
        return not_measured("failover", component, expectation, "the leaders were not sampled", bound=bound, why=why)
    t = takeover(events, component)
    if t is None:
        return not_measured("failover", component, expectation,
                            "no fault hit a node that was leading when it was applied", bound=bound, why=why)
    hit = ", ".join(t.hit)
    measured: dict[str, object] = {"hit": list(t.hit), "took_over": t.by, "final_leaders": list(t.final)}
    checks: list[bool | None] = []
    if t.by is None or t.at is None:
        again = f"; {hit} led again at t={t.back_first:.2f} s (a restart or a resume, not a failover)" \
            if t.back_first is not None else ""
        observed = f"no other node took over after {hit} was hit at t={t.injected:.2f} s{again}"
        checks.append(False)
    else:
        took = t.at - t.injected
        measured["takeover_s"] = round(took, 3)
        observed = f"{t.by} took over {took:.2f} s after {hit} was hit (t={t.at:.2f} s)"
        checks.append(True if within_s is None else took <= within_s)
    if back_as_replica:
        if set(t.final) & set(t.hit):
            observed += f"; at the end {', '.join(t.final)} led: the node hit took leadership back"
            checks.append(False)
        elif not t.final:
            observed += "; no node led at the end of the drill"
            checks.append(False)
        else:
            observed += f"; at the end {', '.join(t.final)} led, {hit} did not"
            checks.append(True)
    return Verdict("failover", component, expectation, observed, judge_all(checks), measured, bound, why)


# ---- the expectation and the checker -------------------------------------------------------------


# Those whose leadership is per queue: `queue:` says which (required there, refused elsewhere).
_QUEUED = tuple(kind for kind in LED if registry.leader_qualifier(kind))
_QUEUE = (f"{' or '.join(_QUEUED)} (required there): the quorum queue whose leadership must move, "
          f"e.g. drill-events for a fault on {(_QUEUED or ('X',))[0]}.leader@drill-events.")


class Failover(ExpectationModel):
    """A replica took over from the leader a fault hit (drills.checkers.failover): the mechanism, not
    only a bound a restart of the same node could also meet."""

    checker: Literal["failover"]
    component: Led = LED[0]
    queue: str | None = Field(None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
                              description=_QUEUE)
    within: Duration | None = Field(None, gt=0, description="The takeover at most this long after the fault "
                                                             "(unset: any time in the drill).")
    back_as_replica: Bool = Field(True, description="The node hit ends the drill not leading while another "
                                                    "node does (it rejoined under the new leader).")
    why: Why


def _sampled(exp: Failover) -> str:
    return sampled_as(exp.component, exp.queue)


def _check(exp: Failover, ev: Evidence) -> list[Verdict]:
    return [check_failover(ev.events, _sampled(exp), within_s=exp.within, back_as_replica=exp.back_as_replica,
                           why=exp.why)]


def _subject(exp: Mapping[str, Any], scenario: Mapping[str, Any]) -> str:
    queue = exp.get("queue")
    return sampled_as(str(exp.get("component") or LED[0]), str(queue) if queue else None)


def _problems(exp: Mapping[str, Any], view: FileView) -> Iterable[tuple[Loc, str]]:
    component = str(exp.get("component") or LED[0])
    if registry.leader_qualifier(component) and not exp.get("queue"):
        yield (), (f"say whose leadership must move: `queue:` (a {component} cluster has a leader per quorum queue, "
                   f"e.g. `queue: drill-events` for a fault on {component}.leader@drill-events)")
    elif not registry.leader_qualifier(component) and exp.get("queue"):
        yield ("queue",), f"`queue:` applies to component {' or '.join(_QUEUED)} only, not {component}"


CHECKER = Checker(Failover, _check, subject=_subject, problems=_problems, samples=frozenset({LeaderSample.NAME}),
                  sampled=_sampled, trouble=("takeover_s",))
