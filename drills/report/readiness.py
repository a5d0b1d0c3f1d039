"""DR readiness by component, from every run reported: each scenario judged over all its runs as
`drill run --repeat` judges them (drills.report.repeats), never from its latest run alone, so a
scenario that passed once and failed once is FLAKY, not READY.

    components(runs) -> [ComponentSummary]   per component: READY | NOT READY | UNVERIFIED
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from drills.report.repeats import aggregate, sample_of_run
from drills.report.runs import STATUSES, Run, chronological


@dataclass(frozen=True)
class ScenarioReadiness:
    """One scenario over the runs reported: its repeat verdict (drills.report.repeats) and latest run."""

    verdict: str  # MET | FLAKY | NOT MET | INCOMPLETE | NOT RUN | ABORTED
    passed: int
    runs: int
    latest: Run


@dataclass(frozen=True)
class ComponentSummary:
    component: str
    readiness: str  # READY | NOT READY | UNVERIFIED
    scenarios: int
    counts: dict[str, int]  # latest status of each scenario -> how many
    latest: list[Run]
    verdicts: list[ScenarioReadiness] = field(default_factory=list)  # in the order of `latest`


# A scenario's repeat verdict -> what it says of readiness: READY needs every run of every
# scenario to have met its expectations; a scenario that failed, or passed only sometimes (FLAKY),
# or was stopped by its operator, is NOT READY; one without a verdict from every run is UNVERIFIED.
NOT_READY_VERDICTS = ("FLAKY", "NOT MET", "ABORTED")


def components(runs: Sequence[Run]) -> list[ComponentSummary]:
    """Per component, every run of each of its scenarios, judged as `drill run --repeat` judges
    them: READY only when every scenario MET its expectations in every run; NOT READY when one is
    FLAKY, NOT MET or ABORTED; UNVERIFIED when some could not run (NOT RUN, INCOMPLETE)."""
    ordered = chronological(runs)
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
                                      len(repeats[r.scenario_id].samples), r) for r in members]
        if any(v.verdict in NOT_READY_VERDICTS for v in verdicts):
            readiness = "NOT READY"
        elif all(v.verdict == "MET" for v in verdicts):
            readiness = "READY"
        else:
            readiness = "UNVERIFIED"
        out.append(ComponentSummary(comp, readiness, len(members), counts, members, verdicts))
    return out
