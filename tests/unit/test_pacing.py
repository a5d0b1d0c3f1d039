"""The workload's pacing, from synthetic histories made by the pacer's own grid: a healthy client
holds its rate; a starved one (late starts while ops are fast) does not; an outage (ops blocking on
a dead server, the pacer skipping the slots they overran) is the stack's and never a pacing
failure; a window too short, or taken by a slow stack, is NOT MEASURED."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from drills.core.events import Phase
from drills.core.history import Event, Op, Outcome
from drills.workload.base import Grid
from drills.workload.pacing import Pacing, pacing_all, pacing_of, steady_window
from drills.workload.signal import SignalSpec

SIGNAL = "postgres.write"
Timing = Callable[[int, float], float]  # (op index, slot) -> seconds


def simulate(rate: float, clients: int, until: float, *, duration: Timing, lag: Timing,
             ok: Callable[[float], bool] = lambda t: True) -> list[Op]:
    """What `SignalRunner._run` records: each process waits for its slot (or starts at once when
    late), starts `lag` after that (the scheduler), runs `duration`, then goes on from
    `Grid.next_after`."""
    ops: list[Op] = []
    for p in range(clients):
        grid = Grid.for_process(0.0, rate, clients, p)
        slot, free, i = grid.first, 0.0, 0
        while slot < until:
            start = max(slot, free) + lag(i, slot)
            end = start + duration(i, slot)
            ops.append(Op(SIGNAL, p, "write", i, start, end, Outcome.OK if ok(start) else Outcome.INFO))
            slot, _ = grid.next_after(slot, end)
            free, i = end, i + 1
    return ops


def fast(i: int, slot: float) -> float:
    return 0.002


def on_time(i: int, slot: float) -> float:
    return 0.0


def test_a_healthy_client_holds_its_rate():
    p = pacing_of(simulate(50, 1, 30, duration=fast, lag=on_time), SIGNAL, rate=50, clients=1, since=5, until=25)
    assert p.status == "held" and p.held is True
    assert p.started == 1000 and p.lag_skips == 0 and p.stack_slots == 0
    assert p.achieved_rate == 50.0
    assert p.line().startswith("pacing held: postgres.write started 50.0 ops/s of 50 in steady")


def test_a_starved_client_is_not_held_and_says_so():
    # Every op begins 1.5 periods late, though each takes 2 ms: the client's scheduler, not the stack.
    ops = simulate(50, 1, 30, duration=fast, lag=lambda i, s: 0.03)
    p = pacing_of(ops, SIGNAL, rate=50, clients=1, since=5, until=25)
    assert p.status == "not-held" and p.held is False
    assert p.achieved_rate is not None and p.achieved_rate < 0.9 * 50
    assert p.lag_skips > 0 and p.stack_slots == 0
    assert "pacing NOT held: postgres.write started" in p.line()
    assert "outages measured by them are upper bounds" in p.line()


def test_an_outage_of_the_stack_is_not_a_pacing_failure():
    # From t=10 to t=15 the server is dead: each op blocks for its 5 s timeout, the pacer skips what it overran.
    def blocking(i: int, slot: float) -> float:
        return 5.0 if 10 <= slot < 15 else 0.002

    ops = simulate(50, 1, 30, duration=blocking, lag=on_time, ok=lambda t: not 10 <= t < 15)
    p = pacing_of(ops, SIGNAL, rate=50, clients=1, since=5, until=25)
    assert p.achieved_rate is not None and p.achieved_rate < 0.9 * 50  # the raw rate fell ...
    assert p.status == "held"  # ... but by the stack's doing
    assert p.lag_skips <= 1 and p.stack_slots > 200


def test_a_short_steady_phase_is_not_measured():
    ops = simulate(50, 1, 30, duration=fast, lag=on_time)
    p = pacing_of(ops, SIGNAL, rate=50, clients=1, since=5, until=5.2)
    assert p.status == "not-measured" and p.held is None and "too short" in p.why
    assert "pacing NOT MEASURED" in p.line()


def test_a_steady_phase_the_stack_kept_slow_is_not_measured():
    ops = simulate(50, 1, 30, duration=lambda i, s: 0.1, lag=on_time)
    p = pacing_of(ops, SIGNAL, rate=50, clients=1, since=5, until=25)
    assert p.status == "not-measured" and "the stack, not the client, set the pace" in p.why


def test_no_window_and_no_ops_are_not_measured():
    ops = simulate(50, 1, 30, duration=fast, lag=on_time)
    assert pacing_of(ops, SIGNAL, rate=50, clients=1, since=None, until=None).status == "not-measured"
    assert pacing_of(ops, "rabbitmq.publish", rate=50, clients=1, since=5, until=25).status == "not-measured"


def test_a_pipelined_process_with_many_ops_in_flight_is_not_blocked():
    # Each publish is confirmed 100 ms later; the next starts on its slot regardless.
    ops = [Op(SIGNAL, 0, "publish", i, i * 0.02, i * 0.02 + 0.1, Outcome.OK) for i in range(1500)]
    p = pacing_of(ops, SIGNAL, rate=50, clients=1, since=5, until=25)
    assert p.status == "held" and p.stack_slots == 0 and p.lag_skips == 0


def test_the_window_is_the_steady_phase_up_to_the_first_injection():
    events = [Event(Phase.WARM_UP.value, 0.5), Event(Phase.STEADY.value, 2.0), Event(Phase.INJECT.value, 12.0),
              Event("fault", 12.3), Event(Phase.HEAL.value, 20.0)]
    assert steady_window(events) == (2.0, 12.0)
    assert steady_window([Event(Phase.WARM_UP.value, 0.5)]) == (None, None)
    ops = simulate(50, 2, 30, duration=fast, lag=on_time)
    (p,) = pacing_all(ops, events, {SIGNAL: SignalSpec(rate=50, clients=2)})
    assert p.status == "held" and p.since == 2.0 and p.until == 12.0 and p.clients == 2


def test_the_journal_form_reads_back():
    p = pacing_of(simulate(50, 1, 30, duration=fast, lag=lambda i, s: 0.03), SIGNAL, rate=50, clients=1,
                  since=5, until=25)
    data = p.to_json()
    assert Pacing.from_json(data).to_json() == data
    assert data["status"] == "not-held" and data["line"] == p.line()


rates = st.sampled_from([10.0, 20.0, 50.0, 100.0])
clients = st.integers(1, 4)


@settings(max_examples=40, deadline=None)
@given(rate=rates, n=clients, jitter=st.floats(0.0, 0.5), seed=st.integers(0, 2**16))
def test_any_client_late_by_less_than_a_period_holds(rate: float, n: int, jitter: float, seed: int):
    period = n / rate
    ops = simulate(rate, n, 40, duration=lambda i, s: 0.1 * period,
                   lag=lambda i, s: jitter * period * (((i * 7919 + seed) % 97) / 97))
    assert pacing_of(ops, SIGNAL, rate=rate, clients=n, since=5, until=35).status == "held"


@settings(max_examples=40, deadline=None)
@given(rate=rates, n=clients, late=st.floats(1.2, 4.0))
def test_any_client_late_by_more_than_a_period_is_not_held(rate: float, n: int, late: float):
    period = n / rate
    ops = simulate(rate, n, 40, duration=lambda i, s: 0.1 * period, lag=lambda i, s: late * period)
    p = pacing_of(ops, SIGNAL, rate=rate, clients=n, since=5, until=35)
    assert p.status == "not-held" and p.lag_skips > 0


@settings(max_examples=40, deadline=None)
@given(rate=rates, n=clients, at=st.floats(5.0, 25.0), length=st.floats(0.5, 10.0),
       timeout=st.sampled_from([1.0, 5.0, 6.0]))
def test_no_outage_of_the_stack_is_a_pacing_failure(rate: float, n: int, at: float, length: float, timeout: float):
    """Ops that start while the server is dead block for their timeout: whatever slots they skip,
    the pacing holds (or, when the outage took most of the window, is not measured)."""
    period = n / rate

    def dur(i: int, s: float) -> float:
        return timeout if at <= s < at + length else 0.1 * period

    ops = simulate(rate, n, 40, duration=dur, lag=on_time)
    p = pacing_of(ops, SIGNAL, rate=rate, clients=n, since=5, until=35)
    assert p.status in ("held", "not-measured") and p.lag_skips <= n  # the window's edges: a slot per client
