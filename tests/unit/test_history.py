"""The history recorder: round trip, threads, bounded memory, crash tolerance, the fault timeline."""

from __future__ import annotations

import threading
import time
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drills.core.errors import HarnessError
from drills.core.events import FaultSpan, fault_spans
from drills.core.history import Event, History, MemoryHistory, Op, Outcome, load, load_ops

times = st.floats(0, 10_000, allow_nan=False, allow_infinity=False)
ops_strategy = st.builds(
    Op,
    signal=st.sampled_from(["postgres.write", "rabbitmq.publish", "rabbitmq.consume", "http.dashboard"]),
    process=st.integers(0, 31),
    kind=st.sampled_from(["write", "publish", "consume", "probe"]),
    value=st.one_of(st.none(), st.integers(-(2**53), 2**53), st.text(max_size=30)),
    start=times,
    end=times,
    outcome=st.sampled_from(list(Outcome)),
    error=st.one_of(st.none(), st.text(max_size=60)),  # quotes, newlines, unicode: all must survive
)


def rounded(op: Op) -> Op:
    return Op(op.signal, op.process, op.kind, op.value, round(op.start, 6), round(op.end, 6), op.outcome, op.error)


@given(st.lists(ops_strategy, max_size=50), st.lists(st.tuples(st.sampled_from(["steady", "inject", "heal"]), times),
                                                     max_size=5))
@settings(max_examples=60)
def test_round_trip_keeps_every_op_and_event_in_order(tmp_path_factory, ops, events):
    path = tmp_path_factory.mktemp("h") / "history.jsonl"
    with History(path) as h:
        for op in ops:
            h.append(op)
        for name, at in events:
            h.event(name, at, detail="x")
    loaded_ops, loaded_events = load(path)
    assert loaded_ops == [rounded(o) for o in ops]
    assert [(e.name, e.at, e.data) for e in loaded_events] == [(n, round(a, 6), {"detail": "x"}) for n, a in events]
    assert load_ops(path) == loaded_ops


def test_values_read_back_are_hashable_and_equal(tmp_path):
    path = tmp_path / "h.jsonl"
    with History(path) as h:
        h.append(Op("s", 0, "write", 7, 0, 1, Outcome.OK))
        h.append(Op("s", 0, "write", "m-7", 0, 1, Outcome.OK))
        h.append(Op("s", 0, "write", [1, 2], 0, 1, Outcome.OK))  # a client bug
    values = [o.value for o in load_ops(path)]
    assert values[:2] == [7, "m-7"]
    assert len(set(values)) == 3  # the list came back as a string, still usable in a set


def test_concurrent_appends_lose_nothing(tmp_path):
    path = tmp_path / "h.jsonl"
    threads_n, per_thread = 16, 500
    with History(path) as h:
        def client(n: int) -> None:
            for seq in range(per_thread):
                h.append(Op(f"sig{n % 4}", n, "write", seq, seq * 0.02, seq * 0.02 + 0.001, Outcome.OK))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(threads_n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sum(h.counts.values()) == threads_n * per_thread
    ops = load_ops(path)
    assert len(ops) == threads_n * per_thread
    for n in range(threads_n):
        assert sorted(o.value for o in ops if o.process == n) == list(range(per_thread))


def test_recording_is_fast_enough_for_1000_ops_per_second(tmp_path):
    n = 20_000
    op = Op("postgres.write", 3, "write", 123456, 12.345678, 12.356789, Outcome.INFO, "OperationalError: timeout")
    with History(tmp_path / "h.jsonl") as h:
        t = time.perf_counter()
        for _ in range(n):
            h.append(op)
        per_op = (time.perf_counter() - t) / n
    # 1 000 ops/s leaves 1 ms per op; recording must take a small fraction of it.
    assert per_op < 200e-6, f"{per_op * 1e6:.0f} us per op"


def test_memory_does_not_grow_with_the_number_of_ops(tmp_path):
    op = Op("postgres.write", 3, "write", 123456, 12.3, 12.4, Outcome.OK)
    with History(tmp_path / "h.jsonl") as h:
        for _ in range(1_000):
            h.append(op)  # warm: the buffer and the counts exist
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(30_000):
            h.append(op)
        grown = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.stop()
    assert grown < 256 * 1024, f"{grown} bytes kept for 30 000 ops"


def test_ops_reach_the_disk_before_close(tmp_path, monkeypatch):
    path = tmp_path / "h.jsonl"
    h = History(path)
    try:
        for i in range(History.FLUSH_EVERY):
            h.append(Op("s", 0, "write", i, 0, 0, Outcome.OK))
        assert len(path.read_text().splitlines()) == History.FLUSH_EVERY  # flushed by count
        monkeypatch.setattr(History, "FLUSH_INTERVAL_S", 0.0)
        h.append(Op("s", 0, "write", -1, 0, 0, Outcome.OK))
        assert len(path.read_text().splitlines()) == History.FLUSH_EVERY + 1  # flushed by time
        h.event("inject", 1.0)
        assert '"inject"' in path.read_text().splitlines()[-1]  # events at once
    finally:
        h.close()


def test_a_history_cut_short_by_a_crash_loads_without_its_last_line(tmp_path):
    path = tmp_path / "h.jsonl"
    with History(path) as h:
        h.append(Op("s", 0, "write", 1, 0, 1, Outcome.OK))
    path.write_text(path.read_text() + '{"t":"op","signal":"s","pro')
    assert [o.value for o in load_ops(path)] == [1]


def test_a_damaged_line_in_the_middle_is_an_error_not_a_silent_gap(tmp_path):
    path = tmp_path / "h.jsonl"
    good = '{"t":"op","signal":"s","process":0,"kind":"write","value":1,"start":0,"end":1,"outcome":"ok","error":null}'
    path.write_text(f"{good}\n{{garbage\n{good}\n")
    with pytest.raises(HarnessError, match=r"h.jsonl:2: damaged record"):
        load(path)
    path.write_text(good.replace('"ok"', '"maybe"') + "\n" + good + "\n")  # valid JSON, invalid outcome
    with pytest.raises(HarnessError, match=":1:"):
        load(path)


def test_appending_after_close_is_an_error(tmp_path):
    h = History(tmp_path / "h.jsonl")
    h.close()
    with pytest.raises(HarnessError, match="closed"):
        h.append(Op("s", 0, "write", 1, 0, 1, Outcome.OK))


def test_memory_history_records_like_the_file():
    h = MemoryHistory()
    h.append(Op("s", 0, "write", 1, 0, 1, Outcome.OK))
    ev = h.event("inject", 2.0, fault="f1")
    assert h.ops[0].value == 1 and h.events == [ev] and ev.data == {"fault": "f1"}


def test_fault_spans_pair_inject_and_heal():
    events = [Event("steady", 0.0), Event("inject", 5.0, {"fault": "a", "kind": "kill", "target": "pg1"}),
              Event("inject", 6.0, {"fault": "b"}), Event("heal", 20.0, {"fault": "b"}),
              Event("heal", 21.0, {"fault": "a"}), Event("inject", 30.0, {"detail": "pause mongo.primary"})]
    assert fault_spans(events) == [FaultSpan(5.0, 21.0, "a", "kill pg1"), FaultSpan(6.0, 20.0, "b", ""),
                                   FaultSpan(30.0, None, "", "pause mongo.primary")]
    # Without ids (the runner's phase events): each heal closes the earliest open fault.
    plain = [Event("inject", 1.0), Event("heal", 2.0), Event("inject", 3.0), Event("heal", 4.0)]
    assert [(s.injected, s.healed) for s in fault_spans(plain)] == [(1.0, 2.0), (3.0, 4.0)]
