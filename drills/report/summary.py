"""One line per drill for `drill run`'s summary table: scenario, documented outcome, observed,
verdict, RTO, RPO — the DR matrix as measured.

Pure: it reads the verdicts' `measured` numbers (units in the key names, see
`drills.checkers.verdict`), so what the table shows is exactly what the journal holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drills.checkers.protocol import Metric
    from drills.checkers.verdict import Verdict
    from drills.records.result import RunResult
    from drills.spec.assumptions import AssumptionCheck


@dataclass(frozen=True)
class SummaryRow:
    scenario: str
    documented: str
    observed: str
    verdict: str  # PASSED, FAILED, NOT-RUN, ERROR, ABORTED
    rto: str  # "7.9 s", "-" when nothing was down, "not measured"
    rpo: str  # "0 writes", "168 writes (3.4 s)", "0 messages", "-"
    # Each declared assumption that did not hold: "lost-writes postgres.write: this bound assumes X; the stack runs Y"
    assumptions: tuple[str, ...] = ()


def documented_outcome(policy: str, limit: int = 90) -> str:
    """The policy's promise: its last sentence (where the seed states the outcome), shortened."""
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", " ".join(policy.split())) if s.strip()]
    text = sentences[-1] if sentences else ""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _num(m: dict[str, Any], key: str) -> float | None:
    v = m.get(key)
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _of_kind(v: Verdict, kind: str) -> list[Metric]:
    from drills.checkers.registry import metrics_of

    return [m for m in metrics_of(v.checker) if m.kind == kind]


def rto_of(verdicts: list[Verdict]) -> str:
    """The longest RTO any signal measured (a restore's RTO when there was one)."""
    rtos = [x for v in verdicts for m in _of_kind(v, "RTO") if (x := _num(v.measured, m.measured)) is not None]
    if not rtos:
        return "not measured" if any(_of_kind(v, "RTO") for v in verdicts) else "-"
    return f"{max(rtos):.1f} s"


def rpo_of(verdicts: list[Verdict]) -> str:
    """Acknowledged data lost: writes (with the data-loss window when a restore measured one),
    or confirmed messages; "not measured" for a loss check that could not count."""
    parts: list[str] = []
    for v in verdicts:
        rpo = _of_kind(v, "RPO")
        windows = [m for m in rpo if m.unit == "s"]
        for m in (m for m in rpo if m.unit != "s"):
            lost = _num(v.measured, m.measured)
            if lost is None:
                parts.append("not measured")
                continue
            text = f"{lost:.0f} {m.unit}"
            for w in windows:
                window = _num(v.measured, w.measured)
                text += f" ({'window not measured' if window is None else f'{window:.1f} s'})"
            parts.append(text)
    return ", ".join(dict.fromkeys(parts)) or "-"


def not_held(verdicts: list[Verdict]) -> list[tuple[str, AssumptionCheck]]:
    """(expectation, result) of each declared assumption a verdict carries that did not hold (broken
    or unchecked), once per expectation: several verdicts of one expectation carry the same ones."""
    found: dict[tuple[str, str], tuple[str, AssumptionCheck]] = {}
    for v in verdicts:
        for a in v.assumptions:
            if a.status != "held":
                found.setdefault((v.checker, a.assumes), (f"{v.checker} {v.subject}", a))
    return list(found.values())


def grouped(assumed: list[tuple[str, AssumptionCheck]]) -> list[str]:
    """One line per reason an assumption did not hold: a stack run by another HA manager breaks
    every bound of the suite for the one reason ("repmgr, not patroni"), said once, not per fact."""
    groups: dict[tuple[str, str], tuple[dict[str, None], dict[str, None]]] = {}
    for exp, a in assumed:
        exps, facts = groups.setdefault((a.status, a.reason if a.status == "unchecked" else a.runs), ({}, {}))
        exps[exp] = None
        facts[a.assumes] = None
    lines = []
    for (status, why), (exps, facts) in groups.items():
        bound = "this bound assumes" if len(exps) == 1 else "these bounds assume"
        said = f"unchecked: {why}" if status == "unchecked" else f"the stack runs {why}"
        lines.append(f"assumption {status}: {', '.join(exps)}: {bound} {' and '.join(facts)}; {said}")
    return lines


def observed_of(result: RunResult) -> str:
    if result.status in ("not-run", "error", "aborted"):
        return result.reason or result.status
    failing = [f"{v.checker} {v.subject}: {v.observed}" for v in result.verdicts if not v.passed]
    if failing:
        return "; ".join(failing)
    outages = [(x, v.subject) for v in result.verdicts for m in _of_kind(v, "outage")
               if (x := _num(v.measured, m.measured)) is not None]
    worst = max(outages, default=None)
    met = "all expectations met" + (f"; longest outage {worst[0]:.1f} s ({worst[1]})" if worst and worst[0] else "")
    # A passed run's reason lists what its stack could not drive (NOT RUN): never hidden behind "met".
    return met + (f"; {result.reason}" if result.reason else "")


def summary_row(result: RunResult) -> SummaryRow:
    """The run's line; an assumption not held is said beside what was observed: a bound met on a
    stack it was not made for is not shown as plainly met."""
    assumed = not_held(result.verdicts)
    observed = observed_of(result) + "".join(f"; {line}" for line in grouped(assumed))
    return SummaryRow(result.scenario_id, documented_outcome(result.policy), observed,
                      result.status.upper(), rto_of(result.verdicts) if result.verdicts else "-",
                      rpo_of(result.verdicts), tuple(f"{exp}: {a.text}" for exp, a in assumed))
