"""Scenario expectations -> checker calls -> verdicts. Pure: the history and the run's facts in.

Each expectation goes to the checker its `checker:` names (drills.checkers.registry), in the
order the scenario lists them. A checker that raises costs only its own expectation: that one is an
ERROR verdict with the traceback (Jepsen's check-safe), every other expectation is still judged.
"""

from __future__ import annotations

from collections.abc import Sequence

from drills.checkers.protocol import Evidence, RunFacts
from drills.checkers.registry import CHECKERS
from drills.checkers.verdict import Verdict, checker_error
from drills.history import Event, Op
from drills.scenario import Scenario

__all__ = ["RunFacts", "evaluate"]


def evaluate(s: Scenario, ops: Sequence[Op], events: Sequence[Event], facts: RunFacts) -> list[Verdict]:
    evidence = Evidence.of(s, ops, events, facts)
    verdicts: list[Verdict] = []
    for exp in s.expectations:
        checker = CHECKERS[exp.checker]
        try:
            verdicts += checker.check(exp, evidence)
        except Exception as exc:  # any bug of a checker becomes its verdict, never the loss of the run
            plain = exp.model_dump(mode="json", by_alias=True)
            try:
                subject = checker.subject(plain, s.model_dump(mode="json", by_alias=True))
            except Exception:  # a subject that cannot be named either
                subject = "?"
            verdicts.append(checker_error(checker.name, subject, f"the {checker.name} expectation", exc, why=exp.why))
    return verdicts
