"""Checkers on synthetic histories (Hypothesis): they must find exactly what was planted."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from drills.checkers.availability import check_availability, outage_windows, recovery, rto
from drills.checkers.lost_writes import check_lost_writes
from drills.checkers.queue import check_queue
from drills.checkers.resync import TopologySample, check_resync, check_resync_samples, resync_time
from drills.checkers.steady_state import check_steady_state, served_again
from drills.checkers.verdict import Status, Verdict, judge_all
from drills.core.history import Op, Outcome

STEP = 0.02  # 50 ops/s
OK, FAIL, INFO = Outcome.OK, Outcome.FAIL, Outcome.INFO


def ops_from(outcomes: list[Outcome], signal: str = "s", step: float = STEP, t0: float = 0.0) -> list[Op]:
    """One client: an op every `step`, each taking half of it."""
    return [Op(signal, 0, "write", i, t0 + i * step, t0 + i * step + step / 2, o) for i, o in enumerate(outcomes)]


outcomes = st.lists(st.sampled_from(list(Outcome)), min_size=1, max_size=300)


@st.composite
def concurrent_ops(draw: st.DrawFn) -> list[Op]:
    """Several processes, ops of random latency that overlap each other."""
    ops = []
    for process in range(draw(st.integers(1, 4))):
        t = draw(st.floats(0, 1))
        for i in range(draw(st.integers(0, 60))):
            latency = draw(st.floats(0.001, 0.5))
            ops.append(Op("s", process, "write", i, t, t + latency, draw(st.sampled_from(list(Outcome)))))
            t += latency + draw(st.floats(0, 0.05))
    assume(ops)
    return ops


# ---- availability -------------------------------------------------------------------------------


@given(outcomes)
def test_windows_are_disjoint_ordered_and_cover_every_failure(seq):
    ops = ops_from(seq)
    windows = outage_windows(ops)
    for a, b in itertools.pairwise(windows):
        assert a.end <= b.start
    for w in windows:
        assert ops[0].start <= w.start <= w.end <= ops[-1].end
    assert sum(w.failed_ops for w in windows) == sum(1 for o in seq if o is not OK)
    assert all(w.recovered for w in windows[:-1])
    assert any(not w.recovered for w in windows) == (seq[-1] is not OK), "unrecovered iff it ends failing"


@given(concurrent_ops())
def test_windows_never_overlap_even_with_concurrent_clients(ops):
    windows = outage_windows(ops)
    for a, b in itertools.pairwise(windows):
        assert a.end <= b.start, "merged: windows never overlap"
    lo, hi = min(o.start for o in ops), max(o.end for o in ops)
    for w in windows:
        assert lo <= w.start <= w.end <= hi
    assert sum(w.failed_ops for w in windows) == sum(1 for o in ops if not o.ok)
    for o in ops:  # every failed op starts inside some window
        if not o.ok:
            assert any(w.start <= o.start <= w.end for w in windows)


@given(st.integers(0, 100), st.integers(1, 200), st.integers(60, 200))
def test_a_planted_outage_is_measured_to_the_op_spacing(ok_before, bad, ok_after):
    seq = [OK] * ok_before + [FAIL] * bad + [OK] * ok_after
    ops = ops_from(seq)
    [window] = outage_windows(ops)
    true_gap = bad * STEP
    assert abs(window.duration - true_gap) <= STEP + 1e-9
    fault_at = ok_before * STEP
    measured = rto(ops, fault_at, sustain_s=1.0)
    assert measured is not None
    assert measured >= true_gap - 1e-9, "RTO can never be shorter than the outage that followed the fault"
    assert measured - true_gap <= STEP + 1e-9, "RTO resolution is the op spacing (<= 50 ms here)"


@given(st.integers(1, 200), st.integers(1, 150), st.integers(60, 150))
def test_rto_counts_from_the_injection_even_when_the_outage_starts_late(delay_ops, bad, ok_after):
    # A partitioned leader keeps answering for a while before it steps down: RTO covers that delay.
    seq = [OK] * delay_ops + [FAIL] * bad + [OK] * ok_after
    measured = rto(ops_from(seq), 0.0, sustain_s=1.0)
    assert measured is not None
    assert measured >= (delay_ops + bad) * STEP - 1e-9


def reference_rto(ops: list[Op], fault_at: float, sustain_s: float, sustain_ops: int) -> float | None:
    """The docstring's definition, brute force (no fault_end)."""
    after = sorted((o for o in ops if o.start >= fault_at), key=lambda o: (o.start, o.end))
    first_bad = next((i for i, o in enumerate(after) if not o.ok), None)
    if first_bad is None:
        ok = len(after) >= sustain_ops and after and after[-1].start - after[0].start >= sustain_s
        return 0.0 if ok else None
    for i in range(first_bad, len(after)):
        run = list(itertools.takewhile(lambda o: o.ok, after[i:]))
        if run and (i == 0 or not after[i - 1].ok) and len(run) >= sustain_ops \
                and run[-1].start - run[0].start >= sustain_s:
            return max(0.0, after[i].end - fault_at)
    return None


@given(outcomes, st.integers(0, 299), st.floats(0, 2), st.integers(1, 30))
@settings(max_examples=300)
def test_rto_matches_its_definition_and_is_never_negative(seq, fault_index, sustain_s, sustain_ops):
    ops = ops_from(seq)
    fault_at = min(fault_index, len(seq) - 1) * STEP
    got = rto(ops, fault_at, sustain_s=sustain_s, sustain_ops=sustain_ops)
    assert got == reference_rto(ops, fault_at, sustain_s, sustain_ops)
    if got is not None:
        assert got >= 0
        # Nothing failed after the recovery point for at least `sustain_s`.
        recovered_op = next(o for o in ops if o.start >= fault_at and abs(o.end - fault_at - got) < 1e-9) \
            if got > 0 else None
        if recovered_op is not None:
            horizon = recovered_op.start + sustain_s
            assert all(o.ok for o in ops if recovered_op.start <= o.start <= horizon)


@given(outcomes, st.integers(1, 299), st.integers(0, 299), st.floats(0, 2))
@settings(max_examples=500)
def test_an_unknown_rto_is_bounded_below_by_what_a_longer_history_finds(seq, cut, fault_index, sustain_s):
    ops = ops_from(seq)
    fault_at = min(fault_index, len(seq) - 1) * STEP
    prefix = recovery(ops[:cut], fault_at, sustain_s=sustain_s)
    full = recovery(ops, fault_at, sustain_s=sustain_s)
    if prefix.rto_s is None and full.rto_s is not None:
        assert full.rto_s >= prefix.at_least_s - 1e-9


def test_a_blip_after_the_heal_does_not_move_the_rto_of_an_undisturbed_signal():
    seq = [OK] * 500 + [FAIL] * 10 + [OK] * 100  # fault at op 100, healed at op 300, blip at op 500
    ops = ops_from(seq)
    assert recovery(ops, 100 * STEP, fault_end=300 * STEP)[:2] == (0.0, "undisturbed")
    assert rto(ops, 100 * STEP) == pytest.approx(510 * STEP + STEP / 2 - 100 * STEP)  # without the heal time
    v = check_availability(ops, "s", fault_at=100 * STEP, fault_end=300 * STEP, max_outage_s=0.1, max_rto_s=1)
    assert v.status is Status.FAIL, "the blip itself is still an outage, judged by max_outage"
    assert v.measured["rto_s"] == 0.0 and v.measured["longest_outage_s"] == pytest.approx(10 * STEP + STEP / 2)


@given(st.integers(10, 100))
def test_a_signal_that_never_recovers_fails_and_has_no_rto(n):
    ops = ops_from([OK] * n + [FAIL] * 100)  # still failing 2 s after the injection when the history ends
    v = check_availability(ops, "s", fault_at=n * STEP, max_outage_s=1.5, max_rto_s=1.5)
    assert v.status is Status.FAIL
    assert v.measured["rto_s"] is None and v.measured["unrecovered"] is True
    assert "not recovered within the bound (still failing" in v.observed


@given(st.integers(10, 100), st.sampled_from([("max_rto_s", 60.0), ("max_outage_s", 60.0)]))
def test_a_history_that_ends_failing_before_the_bound_has_passed_is_not_measured(n, bound):
    """"Never recovered" only when the drill watched long enough to know: a history that ends
    failing 2 s after the injection says nothing of a 60 s bound."""
    ops = ops_from([OK] * n + [FAIL] * 100)
    v = check_availability(ops, "s", fault_at=n * STEP, **{bound[0]: bound[1]})
    assert v.status is Status.NOT_MEASURED
    assert "too soon to judge the bound" in v.observed


def test_a_history_that_stops_before_success_is_sustained_is_not_measured():
    ops = ops_from([OK] * 50 + [FAIL] * 50 + [OK] * 10)  # 0.2 s of success at the end, 1 s needed
    assert recovery(ops, 50 * STEP, sustain_s=1.0) == (None, "too-short", pytest.approx(50 * STEP))
    v = check_availability(ops, "s", fault_at=50 * STEP, max_rto_s=60)
    assert v.status is Status.NOT_MEASURED and "before success was sustained" in v.observed
    # ... unless even the earliest possible recovery breaks the bound.
    assert check_availability(ops, "s", fault_at=50 * STEP, max_rto_s=0.5).status is Status.FAIL
    both = check_availability(ops, "s", fault_at=50 * STEP, max_rto_s=60, max_outage_s=0.5)
    assert both.status is Status.FAIL, "a broken bound fails the verdict even when another is unknown"


def test_no_disruption_means_rto_zero_and_pass():
    ops = ops_from([OK] * 200)
    v = check_availability(ops, "s", fault_at=1.0, max_outage_s=1, max_rto_s=1, max_error_rate=0)
    assert v.status is Status.PASS and v.measured["rto_s"] == 0.0 and v.measured["outages"] == 0
    assert v.measured["op_spacing_s"] == pytest.approx(STEP)


@given(outcomes, st.integers(0, 299), st.integers(0, 299))
def test_error_rates_overall_and_during_the_fault_are_exact(seq, a, b):
    lo, hi = sorted((min(a, len(seq) - 1), min(b, len(seq) - 1)))
    ops = ops_from(seq)
    v = check_availability(ops, "s", fault_at=lo * STEP, fault_end=hi * STEP, max_error_rate=1.0,
                           max_fault_error_rate=1.0)
    during = seq[lo:hi + 1]
    assert v.measured["errors"] == sum(1 for o in seq if o is not OK)
    assert v.measured["error_rate"] == round(v.measured["errors"] / len(seq), 4)
    assert v.measured["error_rate_during_fault"] == round(sum(1 for o in during if o is not OK) / len(during), 4)
    assert v.status is Status.PASS


def test_error_rate_bounds_are_judged():
    ops = ops_from([OK] * 90 + [FAIL] * 10)
    assert check_availability(ops, "s", fault_at=None, max_error_rate=0.1).status is Status.PASS
    assert check_availability(ops, "s", fault_at=None, max_error_rate=0.09).status is Status.FAIL
    v = check_availability(ops, "s", fault_at=90 * STEP, fault_end=99 * STEP, max_fault_error_rate=0.5)
    assert v.status is Status.FAIL and v.measured["error_rate_during_fault"] == 1.0


def test_warm_up_failures_are_left_out_with_since():
    ops = ops_from([FAIL] * 20 + [OK] * 200)  # clients connecting before the steady phase
    assert check_availability(ops, "s", fault_at=None, max_outage_s=0.1).status is Status.FAIL
    v = check_availability(ops, "s", fault_at=None, max_outage_s=0.1, since=20 * STEP)
    assert v.status is Status.PASS and v.measured["ops"] == 200


def test_unmeasurable_is_never_pass():
    assert check_availability([], "s", fault_at=1.0, max_outage_s=1).status is Status.NOT_MEASURED
    ops = ops_from([OK] * 10)
    assert check_availability(ops, "other", fault_at=1.0, max_outage_s=1).status is Status.NOT_MEASURED
    assert check_availability(ops, "s", fault_at=None, max_rto_s=5).status is Status.NOT_MEASURED
    assert check_availability(ops, "s", fault_at=None, max_fault_error_rate=0.5).status is Status.NOT_MEASURED
    assert check_availability(ops, "s", fault_at=99.0, max_rto_s=5).status is Status.NOT_MEASURED  # no ops after
    assert check_availability(ops, "s", fault_at=None).status is Status.NOT_MEASURED  # no bound at all
    assert check_lost_writes(ops, "s", None).status is Status.NOT_MEASURED
    assert check_lost_writes(ops, "other", {1}).status is Status.NOT_MEASURED
    assert check_queue(ops, "s", "c", drained=False).status is Status.NOT_MEASURED
    assert check_queue([], "s", "c", drained=True).status is Status.NOT_MEASURED
    assert check_resync("postgres", None, timed_out=False, max_resync_s=10).status is Status.NOT_MEASURED
    assert check_resync_samples("pg", [], heal_at=1.0, max_resync_s=10).status is Status.NOT_MEASURED
    assert check_resync_samples("pg", [TopologySample(5, 3, 3)], heal_at=None, max_resync_s=10).status \
        is Status.NOT_MEASURED
    assert check_steady_state(ops, "s", window=(100, 200), label="after").status is Status.NOT_MEASURED


@pytest.mark.parametrize(("checks", "status"), [
    ([], Status.NOT_MEASURED), ([True], Status.PASS), ([True, None], Status.NOT_MEASURED),
    ([None, False], Status.FAIL), ([True, True], Status.PASS), ([False], Status.FAIL),
])
def test_bounds_combine_fail_first_then_unknown(checks, status):
    assert judge_all(checks) is status


# ---- lost writes --------------------------------------------------------------------------------


@given(st.data())
@settings(max_examples=200)
def test_lost_writes_finds_exactly_the_planted_losses(data):
    n = data.draw(st.integers(1, 150))
    # Values may be attempted more than once (a retry after an unknown outcome).
    ops = [Op("s", 0, "write", data.draw(st.integers(0, n)), i, i + 0.5, data.draw(st.sampled_from(list(Outcome))))
           for i in range(n)]
    outcomes_of: dict[int, set[Outcome]] = {}
    for o in ops:
        outcomes_of.setdefault(o.value, set()).add(o.outcome)
    acked = {v for v, oc in outcomes_of.items() if OK in oc}
    unknown = {v for v, oc in outcomes_of.items() if OK not in oc and INFO in oc}
    refused = set(outcomes_of) - acked - unknown
    lost = set(data.draw(st.lists(st.sampled_from(sorted(acked)), unique=True))) if acked else set()
    unknown_present = set(data.draw(st.lists(st.sampled_from(sorted(unknown)), unique=True))) if unknown else set()
    refused_present = set(data.draw(st.lists(st.sampled_from(sorted(refused)), unique=True))) if refused else set()
    strangers = set(data.draw(st.lists(st.integers(n + 1, 10 * n + 10), unique=True, max_size=3)))
    final = (acked - lost) | unknown_present | refused_present | strangers
    max_lost = data.draw(st.integers(0, 3))
    v = check_lost_writes(ops, "s", final, max_lost=max_lost)
    assert v.measured["lost"] == len(lost)
    assert v.measured["lost_sample"] == sorted(lost)[:20]
    assert v.measured["acknowledged"] == len(acked)
    assert v.measured["indeterminate"] == len(unknown)
    assert v.measured["indeterminate_present"] == len(unknown_present)
    assert v.measured["failed_but_present"] == len(refused_present)
    assert v.measured["unexpected"] == len(strangers)
    assert v.status is (Status.PASS if len(lost) <= max_lost and not strangers else Status.FAIL)


def test_lost_writes_reads_only_writes_of_its_signal():
    ops = [Op("s", 0, "write", 1, 0, 1, OK), Op("s", 0, "open", 2, 0, 1, FAIL), Op("t", 0, "write", 3, 0, 1, OK)]
    v = check_lost_writes(ops, "s", {1, 2})
    assert v.measured["acknowledged"] == 1 and v.measured["unexpected"] == 1  # 2 was never a write
    assert v.status is Status.FAIL and "never written" in v.observed


def test_values_of_mixed_types_do_not_break_the_report():
    ops = [Op("s", 0, "write", 1, 0, 1, OK), Op("s", 0, "write", "a", 0, 1, OK)]
    v = check_lost_writes(ops, "s", set())
    assert v.measured["lost_sample"] == [1, "a"]


# ---- queue ----------------------------------------------------------------------------------------


@given(st.data())
@settings(max_examples=200)
def test_queue_counts_lost_duplicates_and_strangers(data):
    n = data.draw(st.integers(1, 100))
    published = [Op("pub", 0, "publish", i, i, i, data.draw(st.sampled_from(list(Outcome)))) for i in range(n)]
    confirmed = [o.value for o in published if o.ok]
    lost = set(data.draw(st.lists(st.sampled_from(confirmed), unique=True))) if confirmed else set()
    # Every confirmed message not planted as lost arrives; unconfirmed ones arrive or not.
    delivered = [i for i in range(n) if i not in lost and (i in confirmed or data.draw(st.booleans()))]
    dups = data.draw(st.lists(st.sampled_from(delivered), max_size=20)) if delivered else []
    strangers = data.draw(st.lists(st.integers(n, 2 * n), unique=True, max_size=2))
    consumed = [Op("con", 0, "consume", i, 0, 0, OK) for i in delivered + dups + strangers]
    consumed += [Op("con", 0, "consume", None, 0, 0, FAIL)]  # a consumer outage: no value, not a delivery
    v = check_queue(published + consumed, "pub", "con", drained=True)
    assert v.measured["lost"] == len(lost)
    assert v.measured["lost_sample"] == sorted(lost)[:20]
    assert v.measured["duplicates"] == len(dups)
    assert v.measured["unexpected"] == len(strangers)
    unconfirmed = {o.value for o in published if not o.ok}
    assert v.measured["unconfirmed_delivered"] == len(unconfirmed & set(delivered))
    assert v.status is (Status.PASS if not lost and not strangers else Status.FAIL), "duplicates allowed by default"
    strict = check_queue(published + consumed, "pub", "con", drained=True, max_duplicates=0)
    assert strict.status is (Status.PASS if not lost and not dups and not strangers else Status.FAIL)


# ---- resync ---------------------------------------------------------------------------------------


@given(st.lists(st.booleans(), min_size=1, max_size=60), st.floats(0.1, 5), st.floats(0, 100))
def test_resync_time_is_the_start_of_the_final_in_sync_run(flags, interval, heal_at):
    samples = [TopologySample(heal_at + (i + 1) * interval, 3 if ok else 2, 3, {"pg2": 0, "pg3": 0})
               for i, ok in enumerate(flags)]
    got = resync_time(samples, heal_at)
    if not flags[-1]:
        assert got is None
    else:
        first = len(flags)
        while first > 0 and flags[first - 1]:
            first -= 1
        assert got == pytest.approx(samples[first].at - heal_at)
    v = check_resync_samples("pg", samples, heal_at=heal_at, max_resync_s=30)
    assert v.measured["lost_sync_again"] == sum(1 for a, b in itertools.pairwise(flags) if a and not b)
    if got is not None:
        assert v.status is (Status.PASS if got <= 30 else Status.FAIL)
        assert 0 <= v.measured["resolution_s"] <= interval + 1e-3  # rounded to ms
    elif samples[-1].at - heal_at >= 30:
        assert v.status is Status.FAIL
    else:
        assert v.status is Status.NOT_MEASURED, "stopped watching before the bound: unknown, not failed"


def test_resync_needs_every_lag_known_and_zero():
    lagging = [TopologySample(11, 3, 3, {"pg2": 0, "pg3": 4096}), TopologySample(12, 3, 3, {"pg2": 0, "pg3": None})]
    v = check_resync_samples("pg", lagging, heal_at=10, max_resync_s=1)
    assert v.status is Status.FAIL and "pg3=?" in v.observed
    caught_up = [*lagging, TopologySample(13, 3, 3, {"pg2": 0, "pg3": 0})]
    assert check_resync_samples("pg", caught_up, heal_at=10, max_resync_s=5).measured["resync_s"] == 3.0
    tolerant = check_resync_samples("pg", lagging[:1], heal_at=10, max_resync_s=5, max_lag=8192)
    assert tolerant.status is Status.PASS


def test_resync_from_the_recovery_wait():
    assert check_resync("pg", 12.0, timed_out=False, max_resync_s=60).status is Status.PASS
    assert check_resync("pg", 61.0, timed_out=False, max_resync_s=60).status is Status.FAIL
    timed_out = check_resync("pg", None, timed_out=True, max_resync_s=60, last_seen="pg2 starting")
    assert timed_out.status is Status.FAIL and "pg2 starting" in timed_out.observed


# ---- steady state ---------------------------------------------------------------------------------


@given(outcomes, st.integers(0, 300), st.integers(0, 300), st.floats(0, 1))
def test_steady_state_rate_is_exact_over_a_half_open_window(seq, a, b, threshold):
    lo, hi = sorted((a, b))
    ops = ops_from(seq)
    inside = seq[lo:hi]  # op i starts at i * STEP: [lo, hi) in ops is [lo*STEP, hi*STEP) in time
    v = check_steady_state(ops, "s", window=(lo * STEP - 1e-9, hi * STEP - 1e-9), label="x",
                           min_success_rate=threshold, min_ops=5)
    if len(inside) < 5:
        assert v.status is Status.NOT_MEASURED
        return
    rate = sum(1 for o in inside if o is OK) / len(inside)
    assert v.measured["ops"] == len(inside)
    assert v.measured["success_rate"] == round(rate, 4)
    assert v.status is (Status.PASS if rate >= threshold else Status.FAIL)


def test_steady_state_bounds():
    ops = ops_from([OK] * 99 + [FAIL])
    assert check_steady_state(ops, "s", window=(0, 10), label="x", min_success_rate=0.99).status is Status.PASS
    assert check_steady_state(ops, "s", window=(0, 10), label="x", min_success_rate=0.995).status is Status.FAIL


@given(outcomes, st.integers(0, 300))
def test_the_window_after_recovery_opens_at_the_first_op_served_from_readiness(seq, k):
    ops, ready_at = ops_from(seq), k * STEP - 1e-9
    opens = served_again(ops, "s", ready_at)
    first_ok = next((i for i, o in enumerate(seq) if i >= k and o is OK), None)
    if first_ok is None:
        assert opens == float("inf")  # never served again: nothing to judge a steady state on
    elif first_ok == k:
        assert opens == ready_at  # served from readiness on: the after phase is the window
    else:
        assert opens == ops[first_ok].start > ready_at
        assert all(o is not OK for o in seq[k:first_ok])  # only the not-yet-served start is left out


def test_verdict_json_carries_the_numbers_and_the_bound():
    v = check_availability(ops_from([OK] * 100), "s", fault_at=0.5, max_outage_s=2, why="ttl 10")
    doc = v.to_json()
    assert isinstance(v, Verdict) and doc["status"] == "pass" and doc["bound"] == {"max_outage_s": 2}
    assert doc["measured"]["ops"] == 100 and doc["why"] == "ttl 10"
    assert v.name == "availability: s" and Status.NOT_MEASURED.label == "NOT MEASURED"
