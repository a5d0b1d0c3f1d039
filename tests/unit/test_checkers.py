"""Checkers on synthetic histories (Hypothesis): they must find exactly what was planted."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from drills.checkers.availability import check_availability, outage_windows, rto
from drills.checkers.lost_writes import check_lost_writes
from drills.checkers.queue import check_queue
from drills.checkers.resync import check_resync
from drills.checkers.steady_state import check_steady_state
from drills.checkers.verdict import Status
from drills.history import Op, Outcome

STEP = 0.02  # 50 ops/s


def ops_from(outcomes: list[Outcome], signal: str = "s", step: float = STEP) -> list[Op]:
    return [Op(signal, 0, "write", i, i * step, i * step + step / 2, o) for i, o in enumerate(outcomes)]


outcomes = st.lists(st.sampled_from(list(Outcome)), min_size=1, max_size=300)


@given(outcomes)
def test_windows_are_disjoint_ordered_and_cover_every_failure(seq):
    ops = ops_from(seq)
    windows = outage_windows(ops)
    for a, b in itertools.pairwise(windows):
        assert a.end <= b.start
    for w in windows:
        assert ops[0].start <= w.start <= w.end <= ops[-1].end
        assert w.duration >= 0
    assert sum(w.failed_ops for w in windows) == sum(1 for o in seq if o is not Outcome.OK)
    assert all(w.recovered for w in windows[:-1])


@given(st.integers(0, 100), st.integers(1, 200), st.integers(60, 200))
def test_a_planted_outage_is_measured_to_the_op_spacing(ok_before, bad, ok_after):
    seq = [Outcome.OK] * ok_before + [Outcome.FAIL] * bad + [Outcome.OK] * ok_after
    ops = ops_from(seq)
    [window] = outage_windows(ops)
    true_gap = bad * STEP
    assert abs(window.duration - true_gap) <= STEP + 1e-9
    fault_at = ok_before * STEP
    measured = rto(ops, fault_at, sustain_s=1.0)
    assert measured is not None
    assert measured >= true_gap - 1e-9, "RTO can never be shorter than the outage that followed the fault"
    assert measured - true_gap <= STEP + 1e-9, "RTO resolution is the op spacing (<= 50 ms here)"


@given(st.integers(10, 100))
def test_a_signal_that_never_recovers_fails_and_has_no_rto(n):
    ops = ops_from([Outcome.OK] * n + [Outcome.FAIL] * 100)
    v = check_availability(ops, "s", fault_at=n * STEP, max_outage_s=60, max_rto_s=60)
    assert v.status is Status.FAIL
    assert v.measured["rto_s"] is None
    assert "never recovered" in v.observed


def test_no_disruption_means_rto_zero_and_pass():
    ops = ops_from([Outcome.OK] * 200)
    v = check_availability(ops, "s", fault_at=1.0, max_outage_s=1, max_rto_s=1)
    assert v.status is Status.PASS and v.measured["rto_s"] == 0.0 and v.measured["outages"] == 0


def test_unmeasurable_is_never_pass():
    assert check_availability([], "s", fault_at=1.0, max_outage_s=1).status is Status.NOT_MEASURED
    ops = ops_from([Outcome.OK] * 10)
    assert check_availability(ops, "s", fault_at=None, max_rto_s=5).status is Status.NOT_MEASURED
    assert check_lost_writes(ops, "s", None).status is Status.NOT_MEASURED
    assert check_queue(ops, "s", "c", drained=False).status is Status.NOT_MEASURED
    assert check_resync("postgres", None, timed_out=False, max_resync_s=10).status is Status.NOT_MEASURED
    assert check_steady_state(ops, "s", window=(100, 200), label="after").status is Status.NOT_MEASURED


@given(st.data())
@settings(max_examples=200)
def test_lost_writes_finds_exactly_the_planted_losses(data):
    seq = data.draw(outcomes)
    ops = ops_from(seq)
    acked = [o.value for o in ops if o.ok]
    lost = set(data.draw(st.lists(st.sampled_from(acked), unique=True))) if acked else set()
    info = [o.value for o in ops if o.outcome is Outcome.INFO]
    info_present = set(data.draw(st.lists(st.sampled_from(info), unique=True))) if info else set()
    final = (set(acked) - lost) | info_present
    v = check_lost_writes(ops, "s", final, max_lost=0)
    if not acked and not info and all(o.outcome is Outcome.FAIL for o in ops):
        assert v.measured["lost"] == 0
    assert v.measured["lost"] == len(lost)
    assert v.measured["indeterminate"] == len(info)
    assert v.measured["indeterminate_present"] == len(info_present)
    assert v.status is (Status.PASS if not lost else Status.FAIL)


def test_a_value_never_written_is_flagged():
    ops = ops_from([Outcome.OK] * 3)
    v = check_lost_writes(ops, "s", {0, 1, 2, 999})
    assert v.status is Status.FAIL and v.measured["unexpected"] == 1


@given(st.data())
def test_queue_counts_lost_and_duplicates(data):
    n = data.draw(st.integers(1, 100))
    confirmed = [Op("pub", 0, "publish", i, i, i, data.draw(st.sampled_from(list(Outcome)))) for i in range(n)]
    conf_ids = [o.value for o in confirmed if o.ok]
    lost = set(data.draw(st.lists(st.sampled_from(conf_ids), unique=True))) if conf_ids else set()
    delivered = [i for i in range(n) if i not in lost]
    dups = data.draw(st.lists(st.sampled_from(delivered), max_size=20)) if delivered else []
    consumed = [Op("con", 0, "consume", i, 0, 0, Outcome.OK) for i in delivered + dups]
    v = check_queue(confirmed + consumed, "pub", "con", drained=True)
    assert v.measured["lost"] == len(lost)
    assert v.measured["duplicates"] == len(dups)
    assert v.status is (Status.PASS if not lost else Status.FAIL), "duplicates are allowed by default"
    strict = check_queue(confirmed + consumed, "pub", "con", drained=True, max_duplicates=0)
    assert strict.status is (Status.PASS if not lost and not dups else Status.FAIL)


def test_resync_and_steady_state_bounds():
    assert check_resync("pg", 12.0, timed_out=False, max_resync_s=60).status is Status.PASS
    assert check_resync("pg", 61.0, timed_out=False, max_resync_s=60).status is Status.FAIL
    timed_out = check_resync("pg", None, timed_out=True, max_resync_s=60, last_seen="pg2 starting")
    assert timed_out.status is Status.FAIL and "pg2 starting" in timed_out.observed
    ops = ops_from([Outcome.OK] * 99 + [Outcome.FAIL])
    assert check_steady_state(ops, "s", window=(0, 10), label="x", min_success_rate=0.99).status is Status.PASS
    assert check_steady_state(ops, "s", window=(0, 10), label="x", min_success_rate=0.995).status is Status.FAIL
