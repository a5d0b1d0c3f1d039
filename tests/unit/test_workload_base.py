"""The pacer and the client protocol, with fake clients: no containers."""

from __future__ import annotations

import threading
import time
import types

import pytest
from hypothesis import given
from hypothesis import strategies as st

import drills.workload as workload
from drills.core.history import Op, Outcome
from drills.workload.base import Clients, Grid, Result, SeqCounter, SignalRunner, Watchdog, clock_from, stop_all


def test_public_surface():
    exported = {name for name in dir(workload)
                if not name.startswith("_") and not isinstance(getattr(workload, name), types.ModuleType)}
    assert sorted(workload.__all__) == sorted(exported)


# ---- the grid -----------------------------------------------------------------------------------


def test_processes_interleave_on_the_signal_grid():
    grids = [Grid.for_process(10.0, 50.0, 3, i) for i in range(3)]
    starts = sorted(g.first + k * g.period for g in grids for k in range(4))
    assert starts == pytest.approx([10.0 + n * 0.02 for n in range(12)])


def test_an_op_within_its_slot_keeps_the_next_slot():
    g = Grid(0.0, 0.02)
    assert g.next_after(0.0, 0.005) == (pytest.approx(0.02), 0)


def test_an_op_overrunning_its_period_is_followed_at_once_without_losing_a_slot():
    g = Grid(0.0, 0.02)
    assert g.next_after(0.0, 0.025) == (pytest.approx(0.02), 0)  # due already: start now, late


def test_a_slow_op_skips_the_slots_it_overran_entirely_instead_of_bursting():
    g = Grid(0.0, 0.02)
    nxt, skipped = g.next_after(0.04, 0.111)  # started at slot 2, ended inside slot 5
    assert nxt == pytest.approx(0.10)  # due: the next op starts at once, in the slot reached
    assert skipped == 2  # slots 0.06 and 0.08


def test_an_op_ending_exactly_on_a_slot_takes_that_slot():
    g = Grid(0.0, 0.02)
    assert g.next_after(0.0, 0.06) == (pytest.approx(0.06), 2)


def test_bad_grids_are_refused():
    with pytest.raises(ValueError):
        Grid.for_process(0.0, 0.0, 1, 0)
    with pytest.raises(ValueError):
        Grid.for_process(0.0, 50.0, 2, 2)


@given(origin=st.floats(0, 1e4), rate=st.floats(0.5, 2000), processes=st.integers(1, 32),
       data=st.data())
def test_next_slot_is_on_the_grid_after_the_op_and_counts_what_it_skips(origin, rate, processes, data):
    index = data.draw(st.integers(0, processes - 1))
    g = Grid.for_process(origin, rate, processes, index)
    k = data.draw(st.integers(0, 10_000))
    slot = g.first + k * g.period
    ended = slot + data.draw(st.floats(0, 50 * g.period))
    nxt, skipped = g.next_after(slot, ended)
    steps = (nxt - g.first) / g.period
    eps = 1e-6 * g.period
    assert steps == pytest.approx(round(steps), abs=1e-6)  # on the grid
    if ended <= slot + g.period:
        assert nxt == pytest.approx(slot + g.period)  # in time: the next slot
    else:
        assert nxt <= ended + eps < nxt + g.period  # late: the slot the op reached, due at once
    assert skipped == round((nxt - slot) / g.period) - 1 >= 0


def test_seq_counter_hands_out_each_value_once_across_threads():
    seq = SeqCounter(100)
    got: list[int] = []
    lock = threading.Lock()

    def take() -> None:
        mine = [seq() for _ in range(500)]
        with lock:
            got.extend(mine)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == list(range(100, 2100))


# ---- the runner ---------------------------------------------------------------------------------


class FakeClient:
    kind = "write"

    def __init__(self, process: int, *, delay: float = 0.0, fail_every: int = 0, raise_on: frozenset[int] = frozenset(),
                 in_flight: dict[int, int] | None = None) -> None:
        self.process = process
        self.delay = delay
        self.fail_every = fail_every
        self.raise_on = raise_on
        self.in_flight = in_flight if in_flight is not None else {}
        self.max_in_flight = 0
        self.opened = 0
        self.closed = 0

    def open(self) -> None:
        self.opened += 1

    def invoke(self, seq: int) -> Result:
        self.in_flight[self.process] = self.in_flight.get(self.process, 0) + 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight[self.process])
        try:
            if self.delay:
                time.sleep(self.delay)
            if seq in self.raise_on:
                raise RuntimeError("boom\nsecond line")
            if self.fail_every and seq % self.fail_every == 0:
                return Result.fail(seq, "refused")
            return Result.ok(seq)
        finally:
            self.in_flight[self.process] -= 1

    def close(self) -> None:
        self.closed += 1


class Recorder:
    def __init__(self) -> None:
        self.ops: list[Op] = []
        self._lock = threading.Lock()

    def __call__(self, op: Op) -> None:
        with self._lock:
            self.ops.append(op)


def run_for(runner: SignalRunner, seconds: float) -> None:
    runner.start()
    time.sleep(seconds)
    assert runner.stop(timeout_s=5) == []


def test_runner_keeps_its_rate_and_stamps_ops_on_the_grid():
    rec, clients = Recorder(), []

    def make(i: int) -> FakeClient:
        clients.append(FakeClient(i))
        return clients[-1]

    started = time.monotonic()
    clock = clock_from(started)
    runner = SignalRunner("fake.write", make, rec, clock, rate=100)
    run_for(runner, 1.0)
    elapsed = time.monotonic() - started
    skipped = int(runner.summary()["skipped_slots"])
    # Every slot up to the last op's is either used or counted as skipped (a loaded machine skips
    # some), and the slots never outnumber what the elapsed time holds: true at any speed.
    last_slot = round(rec.ops[-1].start * 100 - 0.5 + 1e-9) if rec.ops else -1
    assert len(rec.ops) >= 2
    assert len(rec.ops) + skipped <= elapsed * 100 + 1
    assert len(rec.ops) + skipped <= last_slot + 1
    starts = [o.start for o in rec.ops]
    # The grid never drifts: in 1 s every slot was used or skipped (a late op does not push the
    # later ones back), and ops of one process never overlap. How late each op is within its slot
    # is scheduling jitter, which depends on the machine's load: bench/ measures it, not this test.
    assert all(b >= a.end for a, b in zip(rec.ops, starts[1:], strict=False))
    assert [o.value for o in rec.ops] == list(range(len(rec.ops)))
    assert all(o.ok and o.kind == "write" and o.signal == "fake.write" and o.end >= o.start for o in rec.ops)
    assert runner.first_ok.is_set()
    assert clients[0].opened == 1 and clients[0].closed == 1


def test_slow_ops_never_overlap_within_a_process_and_skip_slots():
    rec, in_flight, clients = Recorder(), {}, []

    def make(i: int) -> FakeClient:
        clients.append(FakeClient(i, delay=0.05, in_flight=in_flight))
        return clients[-1]

    runner = SignalRunner("fake.write", make, rec, clock_from(time.monotonic()), rate=100, processes=2)
    run_for(runner, 0.6)
    assert all(c.max_in_flight == 1 for c in clients)
    # Two processes, each busy 50 ms per op: at most ~20 ops/s each, not the 50 ops/s each the grid
    # offers (fewer on a loaded machine: a ceiling, not a rate this test can promise).
    assert len(rec.ops) <= 28
    assert runner.summary()["skipped_slots"] > 0
    assert {o.process for o in rec.ops} == {0, 1}
    assert len({o.value for o in rec.ops}) == len(rec.ops)  # seqs shared, never reused


def test_an_unexpected_exception_is_info_and_the_thread_lives_on():
    rec, clients = Recorder(), []

    def make(i: int) -> FakeClient:
        clients.append(FakeClient(i, raise_on=frozenset({2})))
        return clients[-1]

    runner = SignalRunner("fake.write", make, rec, clock_from(time.monotonic()), rate=200)
    run_for(runner, 0.2)
    by_value = {o.value: o for o in rec.ops}
    assert by_value[2].outcome is Outcome.INFO
    assert by_value[2].error == "unexpected RuntimeError: boom"
    assert by_value[3].ok  # the next op ran
    assert clients[0].closed >= 2  # closed after the surprise (so it reconnects), and at the end
    assert runner.summary()["unexpected"] == 1


def test_a_client_that_cannot_open_records_fail_ops_and_is_retried():
    rec = Recorder()
    attempts = []

    def make(i: int) -> FakeClient:
        attempts.append(i)
        if len(attempts) < 3:
            raise OSError("cannot build")
        return FakeClient(i)

    runner = SignalRunner("fake.write", make, rec, clock_from(time.monotonic()), rate=100)
    run_for(runner, 0.3)
    assert [o.outcome for o in rec.ops[:2]] == [Outcome.FAIL, Outcome.FAIL]
    assert rec.ops[0].kind == "open"
    assert rec.ops[2].ok


def test_stop_is_prompt_even_between_slow_slots():
    rec = Recorder()
    runner = SignalRunner("fake.write", FakeClient, rec, clock_from(time.monotonic()), rate=0.5)
    runner.start()
    time.sleep(0.05)
    t = time.monotonic()
    assert stop_all([runner]) == []
    assert time.monotonic() - t < 0.5
    assert len(rec.ops) == 1


def test_a_failing_sink_does_not_stop_the_traffic():
    calls = []

    def sink(op: Op) -> None:
        calls.append(op)
        raise OSError("disk full")

    runner = SignalRunner("fake.write", FakeClient, sink, clock_from(time.monotonic()), rate=200)
    run_for(runner, 0.1)
    assert len(calls) > 5


def test_bad_rates_are_refused():
    with pytest.raises(ValueError):
        SignalRunner("x", FakeClient, Recorder(), time.monotonic, rate=0)


# ---- the watchdog -------------------------------------------------------------------------------


def test_watchdog_fires_once_past_the_deadline_and_not_when_disarmed_in_time():
    fired = threading.Event()
    dog = Watchdog()
    dog.arm(0.05, fired.set)
    assert fired.wait(1.0)
    assert dog.disarm() is True
    fired.clear()
    dog.arm(0.5, fired.set)
    assert dog.disarm() is False
    time.sleep(0.6)
    assert not fired.is_set()
    dog.close()


def test_watchdog_survives_a_failing_action():
    dog = Watchdog()

    def broken() -> None:
        raise OSError("socket already closed")

    dog.arm(0.01, broken)
    time.sleep(0.1)
    assert dog.disarm() is True
    ok = threading.Event()
    dog.arm(0.01, ok.set)
    assert ok.wait(1.0)
    dog.close()


def test_a_signal_ends_every_client_it_made_and_only_those():
    ended: list[tuple[str, int]] = []
    made = Clients(lambda process: ("client", process), ended.append)
    assert [made.client(p) for p in (0, 1, 2)] == [("client", 0), ("client", 1), ("client", 2)]
    assert ended == []
    made.close()
    assert ended == [("client", 0), ("client", 1), ("client", 2)]
