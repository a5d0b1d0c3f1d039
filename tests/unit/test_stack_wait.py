"""Wait strategies on a fake clock: elapsed time, timeouts, exceptions as observations."""

import threading

import pytest

from drills.core.wait import Observation, Wait, WaitTimeout, run_all


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_returns_the_elapsed_time_when_the_condition_holds():
    clock = FakeClock()
    polls = iter([Observation(False, "a"), Observation(False, "b"), Observation(True, "c")])
    elapsed = Wait("x", lambda: next(polls), timeout_s=10, interval_s=0.5).run(clock=clock, sleep=clock.sleep)
    assert elapsed == pytest.approx(1.0)


def test_elapsed_counts_from_since_when_given():
    clock = FakeClock()
    elapsed = Wait("x", lambda: Observation(True)).run(since=90.0, clock=clock, sleep=clock.sleep)
    assert elapsed == pytest.approx(10.0)


def test_timeout_carries_the_last_observation():
    clock = FakeClock()
    w = Wait("replicas streaming", lambda: Observation(False, "1 of 2"), timeout_s=3, interval_s=1)
    with pytest.raises(WaitTimeout, match=r"replicas streaming: not ready after 3.0 s \(last seen: 1 of 2\)") as info:
        w.run(clock=clock, sleep=clock.sleep)
    assert info.value.elapsed_s == pytest.approx(3.0)
    assert info.value.last == Observation(False, "1 of 2")


def test_the_last_sleep_is_cut_to_the_deadline():
    clock = FakeClock()
    with pytest.raises(WaitTimeout):
        Wait("x", lambda: Observation(False), timeout_s=1.2, interval_s=1).run(clock=clock, sleep=clock.sleep)
    assert clock.now == pytest.approx(101.2)


def test_exceptions_are_observations_not_errors():
    clock = FakeClock()
    calls = []

    def condition():
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionRefusedError("[Errno 111] Connection refused")
        return Observation(True)

    assert Wait("x", condition, interval_s=0.25).run(clock=clock, sleep=clock.sleep) == pytest.approx(0.5)

    def refused():
        raise ConnectionRefusedError("refused")

    with pytest.raises(WaitTimeout, match="ConnectionRefusedError: refused"):
        Wait("y", refused, timeout_s=0.5).run(clock=clock, sleep=clock.sleep)


def test_setters_return_new_waits():
    w = Wait("x", lambda: Observation(True))
    assert w.with_timeout(5).timeout_s == 5 and w.timeout_s == 60
    assert w.with_interval(0.1).interval_s == 0.1


def test_run_all_runs_concurrently_and_reports_each():
    gate = threading.Barrier(2, timeout=5)

    def meet():
        gate.wait()  # only passes if both conditions are polled at the same time
        return Observation(True)

    result = run_all([Wait("a", meet, timeout_s=5), Wait("b", meet, timeout_s=5)])
    assert set(result) == {"a", "b"}


def test_run_all_raises_the_first_real_failure_and_cancels_the_rest():
    slow = Wait("never", lambda: Observation(False, "waiting"), timeout_s=30, interval_s=0.05)
    fast = Wait("fails", lambda: Observation(False, "broken"), timeout_s=0.1, interval_s=0.05)
    with pytest.raises(WaitTimeout, match="fails"):
        run_all([slow, fast])
