"""DR readiness by component, from every run reported: each scenario judged over all its runs as
`drill run --repeat` judges them (drills.report.repeats), never from its latest run alone, so a
scenario that passed once and failed once is FLAKY, not READY. A scenario met on a stack that breaks
an assumption its expectations declare (`assumes:`, `drills.spec.assumptions`) proved its bound on a stack
the bound was not made for: its component is NOT READY (assumption broken); one whose assumption
could not be checked leaves it UNVERIFIED (assumption unchecked).

    components(runs) -> [ComponentSummary]   per component: READY | NOT READY | UNVERIFIED, and why
    not_in_stack(runs) -> NotInStack           what the stacks drilled do not have, said in one line

A run NOT RUN because its stack lacks a role the scenario needs (`Run.outside_stack`: the MongoDB
drills on a PostgreSQL-only stack) says nothing of that stack: it is left out of the readiness,
and a component none of whose scenarios could run on the stack is no row of the table (never
UNVERIFIED) but named in `not_in_stack`. A run NOT RUN for an image this machine lacks stays: the
stack has the component, and it is UNVERIFIED until the image is here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from drills.report.repeats import aggregate, sample_of_run
from drills.report.runs import STATUSES, Run, chronological
from drills.spec.assumptions import BROKEN, UNCHECKED, AssumptionStatus, worst


@dataclass(frozen=True)
class ScenarioReadiness:
    """One scenario over the runs reported: its repeat verdict (drills.report.repeats) and latest run."""

    verdict: str  # MET | FLAKY | NOT MET | INCOMPLETE | NOT RUN | ABORTED
    passed: int
    runs: int
    latest: Run
    # the worst of its declared assumptions over its runs (None: none declared)
    assumption: AssumptionStatus | None = None
    not_held: tuple[str, ...] = ()  # each broken or unchecked one: "checker subject: this bound assumes X; ..."


@dataclass(frozen=True)
class ComponentSummary:
    component: str
    readiness: str  # READY | NOT READY | UNVERIFIED
    scenarios: int
    counts: dict[str, int]  # latest status of each scenario -> how many
    latest: list[Run]
    verdicts: list[ScenarioReadiness] = field(default_factory=list)  # in the order of `latest`
    note: str = ""  # "assumption broken" | "assumption unchecked": a met scenario's assumption decided it


# A scenario's repeat verdict -> what it says of readiness: READY needs every run of every
# scenario to have met its expectations; a scenario that failed, or passed only sometimes (FLAKY),
# or was stopped by its operator, is NOT READY; one without a verdict from every run is UNVERIFIED.
NOT_READY_VERDICTS = ("FLAKY", "NOT MET", "ABORTED")


def components(runs: Sequence[Run]) -> list[ComponentSummary]:
    """Per component, every run of each of its scenarios, judged as `drill run --repeat` judges
    them: READY only when every scenario MET its expectations in every run; NOT READY when one is
    FLAKY, NOT MET or ABORTED; UNVERIFIED when some could not run (NOT RUN, INCOMPLETE)."""
    ordered = chronological([r for r in runs if not r.outside_stack])
    repeats = {rep.scenario_id: rep for rep in aggregate(sample_of_run(r) for r in ordered)}
    latest: dict[str, Run] = {}
    for r in ordered:
        latest[r.scenario_id] = r
    by_component: dict[str, list[Run]] = {}
    for r in latest.values():
        by_component.setdefault(r.component, []).append(r)
    out: list[ComponentSummary] = []
    for comp in sorted(by_component):
        members = sorted(by_component[comp], key=lambda r: r.scenario_id)
        counts = {s: sum(1 for r in members if r.status == s) for s in STATUSES}
        counts = {k: v for k, v in counts.items() if v}
        verdicts = [ScenarioReadiness(repeats[r.scenario_id].verdict, repeats[r.scenario_id].passed,
                                      len(repeats[r.scenario_id].samples), r,
                                      *_assumed([x for x in ordered if x.scenario_id == r.scenario_id]))
                    for r in members]
        met_broken = any(v.verdict == "MET" and v.assumption == BROKEN for v in verdicts)
        met_unchecked = any(v.verdict == "MET" and v.assumption == UNCHECKED for v in verdicts)
        if any(v.verdict in NOT_READY_VERDICTS for v in verdicts) or met_broken:
            readiness = "NOT READY"
        elif all(v.verdict == "MET" for v in verdicts) and not met_unchecked:
            readiness = "READY"
        else:
            readiness = "UNVERIFIED"
        note = "assumption broken" if met_broken else "assumption unchecked" if met_unchecked else ""
        out.append(ComponentSummary(comp, readiness, len(members), counts, members, verdicts, note))
    return out


@dataclass(frozen=True)
class NotInStack:
    """What the runs reported could not drill because their stack lacks it: whole components (none
    of their scenarios ran), and scenarios of components that are in the table, each with the roles
    it lacked."""

    stacks: tuple[str, ...] = ()  # the names of the stacks that lack them
    components: tuple[str, ...] = ()
    scenarios: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (scenario, roles lacked)

    def text(self) -> str:
        """One line under the readiness table; "" when the stacks have everything reported."""
        if not (self.components or self.scenarios):
            return ""
        where = f"not in this stack ({', '.join(self.stacks)})" if len(self.stacks) == 1 else \
            f"not in the stacks drilled ({', '.join(self.stacks)})" if self.stacks else "not in this stack"
        parts = [", ".join(self.components)] if self.components else []
        if self.scenarios:
            parts.append("scenarios for a role it lacks: " + ", ".join(
                f"{scenario} ({', '.join(roles)})" for scenario, roles in self.scenarios))
        return f"{where}: " + "; ".join(parts)


def not_in_stack(runs: Sequence[Run]) -> NotInStack:
    """The components and scenarios whose every run was NOT RUN for a role its stack lacks."""
    by_scenario: dict[str, list[Run]] = {}
    for r in runs:
        by_scenario.setdefault(r.scenario_id, []).append(r)
    out = {sid: rs for sid, rs in by_scenario.items() if all(r.outside_stack for r in rs)}
    kept = {r.component for sid, rs in by_scenario.items() if sid not in out for r in rs}
    gone = sorted({rs[-1].component for rs in out.values()} - kept)
    partly = tuple((sid, tuple(sorted({role for r in rs for role in r.lacks})))
                   for sid, rs in sorted(out.items()) if rs[-1].component in kept)
    stacks = tuple(sorted({str(r.stack.get("name")) for rs in out.values() for r in rs if r.stack.get("name")}))
    return NotInStack(stacks, tuple(gone), partly)


def _assumed(runs: Sequence[Run]) -> tuple[AssumptionStatus | None, tuple[str, ...]]:
    """The worst declared assumption of a scenario over its runs, and each one not held, named by
    its expectation (once, however many runs broke it)."""
    from drills.checkers.registry import subject_of

    results = []
    not_held: dict[str, None] = {}
    for run in runs:
        expectations = [e for e in run.scenario.get("expectations") or [] if isinstance(e, dict)]
        for exp, assumed in zip(expectations, run.assumptions(), strict=True):
            results += assumed
            for a in assumed:
                if a.status != "held":
                    not_held[f"{exp.get('checker')} {subject_of(exp, run.scenario)}: {a.text}"] = None
    return worst(results), tuple(not_held)
