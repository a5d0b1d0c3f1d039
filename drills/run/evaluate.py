"""Scenario expectations -> checker calls -> verdicts. Pure: the history and the run's facts in.

Each expectation goes to the checker its `checker:` names (drills.checkers.registry), in the
order the scenario lists them. A checker that raises costs only its own expectation: that one is an
ERROR verdict with the traceback (Jepsen's check-safe), every other expectation is still judged.
Each verdict carries its expectation's declared assumptions (`assumes:`), checked against the
configuration read back from the stack before the first fault (`drills.spec.assumptions`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

from drills.checkers.protocol import Evidence, RunFacts
from drills.checkers.registry import checker_of
from drills.checkers.verdict import Verdict, checker_error
from drills.core.history import Event, Op
from drills.files.scenario import Scenario
from drills.spec.assumptions import check_all
from drills.workload.pacing import Pacing, pacing_all

if TYPE_CHECKING:
    from drills.core.effective_config import EffectiveConfig

__all__ = ["RunFacts", "evaluate", "pacing"]


def evaluate(s: Scenario, ops: Sequence[Op], events: Sequence[Event], facts: RunFacts,
             effective: EffectiveConfig | None = None) -> list[Verdict]:
    """`effective`: the configuration drilled (None: none was read; a declared assumption is then
    unchecked, never held)."""
    evidence = Evidence.of(s, ops, events, facts)
    verdicts: list[Verdict] = []
    for exp in s.expectations:
        checker = checker_of(exp.checker)
        assumed = check_all(exp.assumes, effective)
        try:
            verdicts += [dataclasses.replace(v, assumptions=assumed) for v in checker.check(exp, evidence)]
        except Exception as exc:  # any bug of a checker becomes its verdict, never the loss of the run
            plain = exp.model_dump(mode="json", by_alias=True)
            try:
                subject = checker.subject(plain, s.model_dump(mode="json", by_alias=True))
            except Exception:  # a subject that cannot be named either
                subject = "?"
            verdicts.append(dataclasses.replace(
                checker_error(checker.name, subject, f"the {checker.name} expectation", exc, why=exp.why),
                assumptions=assumed))
    return verdicts


def pacing(s: Scenario, ops: Sequence[Op], events: Sequence[Event]) -> list[Pacing]:
    """Whether each signal of the workload kept its rate in steady (drills.workload.pacing). A bug
    of the measure costs only the measure: every signal is then NOT MEASURED, with the error."""
    try:
        return pacing_all(ops, events, s.workload)
    except Exception as exc:
        return [Pacing(signal, spec.rate, spec.clients, "not-measured", None, None,
                       why=f"the measure raised {type(exc).__name__}: {exc}") for signal, spec in s.workload.items()]
