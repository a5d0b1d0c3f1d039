"""The split-brain checker on synthetic `leaders` samples."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from drills.checkers.split_brain import check_split_brain
from drills.checkers.verdict import Status
from drills.core.history import Event

NODES = ("pg1", "pg2", "pg3")


def samples(sets: list[tuple[str, ...]], step: float = 0.25) -> list[Event]:
    return [Event("leaders", i * step, {"component": "postgres", "leaders": list(s)}) for i, s in enumerate(sets)]


@given(st.lists(st.sets(st.sampled_from(NODES)).map(lambda s: tuple(sorted(s))), min_size=2, max_size=60),
       st.sampled_from([0.0, 0.25, 0.5, 1.0]))
def test_overlap_is_the_time_more_than_one_node_claims_leadership(sets, bound):
    v = check_split_brain(samples(sets), "postgres", max_overlap_s=bound)
    # The last sample closes the previous stretch; runs of consecutive multi-leader samples are
    # separate events here only when the set changes, as the sampler records them.
    runs = [len(list(g)) for multi, g in itertools.groupby(sets[:-1], key=lambda s: len(s) > 1) if multi]
    assert v.measured["overlaps"] == sum(1 for s in sets[:-1] if len(s) > 1)
    assert abs(v.measured["total_overlap_s"] - 0.25 * sum(runs)) < 1e-6
    assert v.passed == (v.measured["longest_overlap_s"] <= bound)


def test_one_leader_handing_over_is_no_split_brain():
    v = check_split_brain(samples([("pg1",), (), (), ("pg2",), ("pg2",)]), "postgres")
    assert v.passed and v.measured["leaderless_s"] == 0.5 and "never more than one leader" in v.observed


def test_two_leaders_fail_and_are_named():
    v = check_split_brain(samples([("pg1",), ("pg1", "pg2"), ("pg2",)]), "postgres")
    assert v.status is Status.FAIL and "pg1, pg2" in v.observed and v.measured["longest_overlap_s"] == 0.25


def test_without_samples_it_is_not_measured():
    assert check_split_brain([], "postgres").status is Status.NOT_MEASURED
