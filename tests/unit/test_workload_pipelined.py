"""The pipelined publisher's pure parts (confirm bookkeeping, the slots), and its loop against a
port where nothing listens: no broker, no containers."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drills.core.history import Op, Outcome
from drills.workload.base import Grid, Slots, clock_from
from drills.workload.rabbitmq import QueueSetup, RabbitTarget
from drills.workload.rabbitmq_confirms import NACKED, RETURNED, Confirms
from drills.workload.rabbitmq_lane import Lane
from drills.workload.rabbitmq_pipelined import NOT_CONNECTED, PipelinedPublisher, PurgeOnce

# ---- confirms -----------------------------------------------------------------------------------


def published(n: int, start: float = 0.0, step: float = 0.02) -> Confirms:
    c = Confirms(since=start)
    for seq in range(n):
        assert c.published(100 + seq, start + seq * step) == seq + 1  # tags 1, 2, ... as the broker counts
    return c


def test_a_single_ack_confirms_its_message_only():
    c = published(3)
    [r] = c.ack(2, False, now=1.0)
    assert (r.seq, r.start, r.end, r.outcome) == (101, pytest.approx(0.02), 1.0, Outcome.OK)
    assert len(c) == 2


def test_a_multiple_ack_confirms_every_tag_up_to_its_own():
    c = published(5)
    done = c.ack(3, True, now=1.0)
    assert [r.seq for r in done] == [100, 101, 102]
    assert all(r.outcome is Outcome.OK and r.end == 1.0 for r in done)
    assert len(c) == 2


def test_a_multiple_nack_fails_every_tag_up_to_its_own():
    c = published(4)
    c.ack(2, False, now=0.5)
    done = c.nack(3, True, now=1.0)
    assert [(r.seq, r.outcome, r.error) for r in done] == [(100, Outcome.FAIL, NACKED), (102, Outcome.FAIL, NACKED)]
    assert len(c) == 1


def test_a_returned_message_fails_when_its_ack_comes():
    c = published(2)
    assert c.returned(101) is True
    assert c.returned(999) is False  # not ours, or resolved already
    done = c.ack(2, True, now=1.0)
    assert [(r.seq, r.outcome, r.error) for r in done] == [(100, Outcome.OK, None), (101, Outcome.FAIL, RETURNED)]


def test_acks_of_resolved_tags_are_ignored_but_count_as_an_answer():
    c = published(2)
    assert [r.seq for r in c.expired(now=5.0, timeout_s=5.0)] == [100]
    assert c.ack(1, False, now=6.0) == []
    assert c.last_answer == 6.0


def test_messages_unconfirmed_after_the_timeout_are_info_oldest_first():
    c = published(3, step=1.0)  # started at 0, 1, 2
    assert c.expired(now=4.9, timeout_s=5.0) == []
    done = c.expired(now=6.0, timeout_s=5.0)
    assert [(r.seq, r.outcome, r.end) for r in done] == [(100, Outcome.INFO, 6.0), (101, Outcome.INFO, 6.0)]
    assert "timeout after 5 s" in (done[0].error or "")
    assert len(c) == 1


def test_stalled_needs_an_old_message_and_no_answer_for_the_timeout():
    c = published(2, start=0.0, step=1.0)
    assert not c.stalled(now=4.0, timeout_s=5.0)
    assert c.stalled(now=5.0, timeout_s=5.0)
    c.ack(99, False, now=4.5)  # an answer (for nothing pending) 0.5 s before
    assert not c.stalled(now=5.0, timeout_s=5.0)
    assert c.stalled(now=9.5, timeout_s=5.0)
    assert not Confirms(since=0.0).stalled(now=100.0, timeout_s=5.0)  # nothing waits: idle, not stalled


def test_abandon_makes_every_unconfirmed_message_info():
    c = published(3)
    c.ack(1, False, now=0.1)
    done = c.abandon(now=1.0, why="connection lost")
    assert [(r.seq, r.outcome, r.error) for r in done] == [(101, Outcome.INFO, "connection lost"),
                                                           (102, Outcome.INFO, "connection lost")]
    assert len(c) == 0 and c.ack(3, True, now=2.0) == []


answer = st.tuples(st.sampled_from(["ack", "nack", "return", "expire"]), st.integers(1, 40), st.booleans())


@given(n=st.integers(0, 40), answers=st.lists(answer, max_size=60))
def test_every_message_is_resolved_exactly_once_as_a_model_says(n, answers):
    c = published(n, step=0.1)
    resolved: dict[int, tuple[Outcome, str | None]] = {}
    returned: set[int] = set()
    now = 0.0
    for what, tag, multiple in answers:
        now += 0.05
        if what == "return":
            c.returned(100 + tag - 1)
            if tag <= n and 100 + tag - 1 not in resolved:
                returned.add(100 + tag - 1)
            continue
        if what == "expire":
            done = c.expired(now, timeout_s=1.0)
            expected = {s for s in range(100, 100 + n) if s not in resolved and now - (s - 100) * 0.1 >= 1.0}
            assert {r.seq for r in done} == expected
        else:
            done = c.ack(tag, multiple, now) if what == "ack" else c.nack(tag, multiple, now)
            covered = range(1, tag + 1) if multiple else [tag]
            expected = {100 + t - 1 for t in covered if t <= n} - set(resolved)
            assert {r.seq for r in done} == expected
            for r in done:
                ok = what == "ack" and r.seq not in returned
                assert r.outcome is (Outcome.OK if ok else Outcome.FAIL)
                assert r.end == now
        for r in done:
            assert r.seq not in resolved
            resolved[r.seq] = (r.outcome, r.error)
        assert len(c) == n - len(resolved)
    rest = c.abandon(now + 1, "lost")
    assert all(r.outcome is Outcome.INFO for r in rest)
    assert sorted([*resolved, *(r.seq for r in rest)]) == list(range(100, 100 + n))


# ---- slots --------------------------------------------------------------------------------------


def test_slots_are_due_on_the_grid_one_at_a_time():
    s = Slots(Grid(10.0, 0.02))
    assert not s.take(9.99) and s.wait(9.99) == pytest.approx(0.01)
    assert s.take(10.0) and not s.take(10.0)
    assert s.take(10.025)  # a little late: this slot, not skipped
    assert s.skipped == 0 and s.next == pytest.approx(10.04)


def test_a_late_loop_skips_the_slots_it_missed_instead_of_bursting():
    s = Slots(Grid(0.0, 0.02))
    assert s.take(0.0)
    assert s.take(0.105)  # slots 0.02..0.10 were due: take 0.10, skip 0.02, 0.04, 0.06, 0.08
    assert s.skipped == 4 and s.next == pytest.approx(0.12)
    assert not s.take(0.11)


@given(origin=st.floats(0, 1e3), period=st.floats(0.001, 1.0),
       steps=st.lists(st.floats(0.0, 5.0), min_size=1, max_size=50))
def test_taken_plus_skipped_slots_are_every_slot_elapsed(origin, period, steps):
    grid = Grid(origin, period)
    s = Slots(grid)
    now, taken = origin, 0
    for step in steps:
        now += step * period
        if s.take(now):
            taken += 1
            assert not s.take(now)  # never two slots at once
        assert s.next > now - 1e-9 * max(1.0, now)
    elapsed = round((grid.at_or_before(now) - grid.first) / period) + 1
    assert taken + s.skipped == elapsed


# ---- the loop without a broker ------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once it is closed


def test_slots_tick_at_the_rate_while_no_node_accepts_a_connection():
    ops: list[Op] = []
    lock = threading.Lock()

    def sink(op: Op) -> None:
        with lock:
            ops.append(op)

    target = RabbitTarget(((("127.0.0.1", closed_port())), ("127.0.0.1", closed_port())), "pw", "run", "app")
    pub = PipelinedPublisher(target, QueueSetup(target.queue), sink, clock_from(time.monotonic()), rate=50.0)
    started = time.monotonic()
    pub.start()
    time.sleep(1.0)
    assert pub.stop(5.0) == []
    elapsed = time.monotonic() - started
    summary = pub.summary()
    # Speed-independent: every slot of the grid up to the last one was either taken or counted as
    # skipped (none silently lost, none taken twice), and never more slots than the elapsed time
    # holds. How many were taken rather than skipped depends on how loaded the machine is.
    assert len(ops) >= 2 and summary["ops"] == len(ops)
    assert len(ops) + summary["skipped_slots"] <= elapsed * 50.0 + 1
    assert all(o.outcome is Outcome.FAIL and o.error == NOT_CONNECTED and o.kind == "publish" for o in ops)
    assert [o.value for o in ops] == sorted(o.value for o in ops)
    # Failed at once rather than waiting out a connect or op timeout on a closed port.
    assert all(o.end - o.start < target.op_timeout_s for o in ops)
    assert summary["reconnects"] >= 2  # kept trying, node after node
    assert not pub.first_ok.is_set()


# ---- the purge, once per drill ------------------------------------------------------------------


def lane(process: int) -> Lane:
    return Lane(process, Slots(Grid(0.0, 0.02)), 0)


def test_one_lane_purges_the_others_wait_and_a_purge_cut_short_is_done_again():
    setup = QueueSetup("q")
    purge = PurgeOnce(setup)
    a, b = lane(0), lane(1)
    assert purge.begin(a) == "purge"
    assert purge.begin(b) == "wait"
    assert not setup.claim_purge(), "claimed: the consumer does not purge as well"
    assert purge.abandoned(a)  # a's connection went away before Purge-Ok
    a.detach()
    assert not purge.done(a), "a Purge-Ok of the abandoned connection counts for nothing"
    assert purge.begin(b) == "purge"
    assert purge.done(b)
    assert purge.begin(a) == "ready"
    assert not purge.abandoned(b), "once done, a lost connection does not undo the purge"


def test_a_lane_publishes_at_once_when_the_consumer_purged_first():
    setup = QueueSetup("q")
    assert setup.claim_purge()  # as QueueSetup.ensure marks it, under the same lock
    assert PurgeOnce(setup).begin(lane(0)) == "ready"


@given(st.lists(st.tuples(st.sampled_from(["begin", "done", "abandon", "consumer"]), st.integers(0, 2)),
                max_size=40))
def test_the_queue_is_purged_before_any_lane_is_ready_and_never_twice_at_once(events):
    setup = QueueSetup("q")
    purge = PurgeOnce(setup)
    lanes = [lane(i) for i in range(3)]
    purged = False  # a purge has completed (a lane's Purge-Ok, or the consumer's)
    purging: set[int] = set()
    for what, i in events:
        la = lanes[i]
        if what == "consumer":
            if setup.claim_purge():
                purged = True
        elif what == "begin":
            step = purge.begin(la)
            if step == "purge":
                purging.add(i)
                assert len(purging) == 1
            assert step != "ready" or purged
        elif what == "done" and purge.done(la):
            assert purging == {i}
            purging.clear()
            purged = True
        elif what == "abandon":
            if purge.abandoned(la):
                purging.discard(i)
            la.detach()


@given(st.lists(st.tuples(st.sampled_from(["begin", "done", "abandon", "consumer"]), st.integers(0, 2)),
                max_size=20))
def test_the_stack_s_queue_is_never_purged_and_every_lane_is_ready_at_once(events):
    """The stack's queue (its stack file's signal_queue) is not Drills' to purge: no lane and no
    consumer ever gets the purge, whatever happens in between."""
    setup = QueueSetup("stack-queue", passive=True)
    purge = PurgeOnce(setup)
    lanes = [lane(i) for i in range(3)]
    for what, i in events:
        if what == "consumer":
            assert not setup.claim_purge()
        elif what == "begin":
            assert purge.begin(lanes[i]) == "ready"
        elif what == "done":
            assert not purge.done(lanes[i])
        else:
            assert not purge.abandoned(lanes[i])
    assert purge.begin(lanes[0]) == "ready" and not setup.claim_purge()
