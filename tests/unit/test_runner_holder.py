"""A step on a role the system assigns (`postgres.leader`) waits for a holder when there is none
for a moment (a cluster restarted whole elects its leader), at most the recovery timeout; a fixed
target that cannot be resolved is an error at once, as before."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from drills.core.errors import StackError
from drills.files.scenario import load_scenario
from drills.records.journal import PhaseRecord
from drills.run.runner import Drill

ROOT = Path(__file__).resolve().parents[2]


class Electing:
    """A stack whose PostgreSQL has no leader (or, `empty`, no replica streaming) for its first `gaps` asks."""

    def __init__(self, gaps: int, *, empty: bool = False) -> None:
        self.gaps, self.asked, self.empty = gaps, 0, empty

    def services(self, role: str) -> list[str]:
        self.asked += 1
        if self.asked <= self.gaps:
            if self.empty:
                return []
            raise StackError(f"{role}: PostgreSQL has no single leader right now (['pg1', 'pg2', 'pg3'])")
        return ["pg2"]


def drill_on(stack: object, timeout_s: float) -> Drill:
    drill = object.__new__(Drill)
    scenario = load_scenario(ROOT / "scenarios" / "postgres-leader-kill.yaml")
    drill.s = scenario.model_copy(update={"recovery": scenario.recovery.model_copy(update={"timeout": timeout_s})})
    drill.stack = stack  # type: ignore[assignment]
    drill.t0 = time.monotonic()
    return drill


def test_a_step_on_the_leader_waits_for_one_to_be_elected():
    stack = Electing(gaps=3)
    rec = PhaseRecord("inject", 0.0, detail="pause postgres.leader")
    assert drill_on(stack, 30)._holder_of("postgres.leader", rec) == ["pg2"]
    assert stack.asked == 4 and "waited" in rec.detail and "for a holder of postgres.leader" in rec.detail


def test_no_leader_within_the_recovery_timeout_is_an_error():
    with pytest.raises(StackError, match="no single leader"):
        drill_on(Electing(gaps=10_000), 0.6)._holder_of("postgres.leader", PhaseRecord("inject", 0.0))


def test_a_fixed_target_is_not_waited_for():
    stack = Electing(gaps=1)
    with pytest.raises(StackError):
        drill_on(stack, 30)._holder_of("pg1", PhaseRecord("inject", 0.0))
    assert stack.asked == 1


def test_a_step_on_the_replicas_waits_for_one_streaming_again():
    stack = Electing(gaps=2, empty=True)
    rec = PhaseRecord("inject", 0.0)
    assert drill_on(stack, 30)._holder_of("postgres.replica", rec) == ["pg2"]
    assert stack.asked == 3 and "for a holder of postgres.replica" in rec.detail
    assert drill_on(Electing(gaps=10_000, empty=True), 0.6)._holder_of("postgres.replica", rec) == []
