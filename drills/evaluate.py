"""Scenario expectations -> checker calls -> verdicts. Pure: the history and the run's facts in.

Each expectation goes to the checker its `checker:` names (drills.checkers.registry), in the
order the scenario lists them.
"""

from __future__ import annotations

from collections.abc import Sequence

from drills.checkers.protocol import Evidence, RunFacts
from drills.checkers.registry import CHECKERS
from drills.checkers.verdict import Verdict
from drills.history import Event, Op
from drills.scenario import Scenario

__all__ = ["RunFacts", "evaluate"]


def evaluate(s: Scenario, ops: Sequence[Op], events: Sequence[Event], facts: RunFacts) -> list[Verdict]:
    evidence = Evidence.of(s, ops, events, facts)
    return [v for exp in s.expectations for v in CHECKERS[exp.checker].check(exp, evidence)]
