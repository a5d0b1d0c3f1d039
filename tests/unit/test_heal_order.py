"""When each step of a scenario heals: at the end of its own hold, or (`overlaps_next`) with the
next step, or (`heal: false`) never during the steps."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from drills.faults.process import Kill
from drills.faults.step import heals_after


def steps_of(flags: list[tuple[bool, bool]]) -> list[Kill]:
    return [Kill(fault="kill", target="postgres.leader", heal=heal, overlaps_next=through) for heal, through in flags]


@given(st.lists(st.tuples(st.booleans(), st.booleans()), max_size=8))
def test_every_healing_step_heals_once_never_before_its_own_hold_ends(flags):
    steps = steps_of(flags)
    plan = heals_after(steps)
    healed = [j for due in plan for j in due]
    assert sorted(healed) == [i for i, s in enumerate(steps) if s.heal]  # each once; heal: false never
    for i, due in enumerate(plan):
        assert all(j <= i for j in due)
        assert due == tuple(sorted(due, key=lambda j: (j != i, -j)))  # itself first, then latest first
    for i, s in enumerate(steps):
        if s.heal and (not s.overlaps_next or i == len(steps) - 1):
            assert i in plan[i]


def test_a_chain_of_overlapping_steps_heals_with_the_first_that_does_not_overlap():
    steps = steps_of([(True, True), (True, True), (True, False), (True, False)])
    assert heals_after(steps) == [(), (), (2, 1, 0), (3,)]
    assert heals_after(steps_of([(True, True), (False, False)])) == [(), (0,)]
