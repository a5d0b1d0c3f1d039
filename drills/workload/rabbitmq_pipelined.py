"""rabbitmq.publish, pipelined: a publish starts on every grid slot, whatever became of the others.

The synchronous `drills.workload.rabbitmq.Publisher` has one message in flight per process: when
the broker stops confirming (a partitioned queue leader), each publish blocks for its 5 s op
timeout, no op starts meanwhile, and the end of the outage is only known to within those 5 s.
Here one thread runs pika's asynchronous `SelectConnection` on an IOLoop of its own: a timer
publishes on every slot of the signal's grid (`origin + k / rate`; a late loop skips the slots it
missed, counted, instead of bursting) and the confirms are matched to their messages as they come.

The messages and their semantics are those of the synchronous publisher (see its module):
message id = str(seq) (a shared counter), persistent, `mandatory`, header `x-drill-run` = the run
token, to the signal's queue: Drills' own quorum queue `drill-events`, declared on every new
channel and purged once per drill, or the stack's, only checked passively (`QueueSetup`). One op
per publish, `start` = the slot's actual start:

- Basic.Ack -> `ok`, `end` = when the ack arrived (`multiple` acks cover every tag up to theirs);
- Basic.Nack -> `fail`; Basic.Return (unroutable; the broker then acks it) -> `fail`;
- not connected at the slot (down, connecting, channel being set up) -> `fail` "not connected" at
  once: a down period shows at the grid's resolution, and connecting never stops the slots;
- connection or channel lost with the message unconfirmed -> `info` (maybe enqueued);
- unconfirmed after `op_timeout_s` -> `info`. When nothing at all was confirmed for `op_timeout_s`
  while messages wait, the connection is dropped (its unconfirmed messages -> `info`) and the next
  node is tried (round robin over the endpoints, connect timeout `connect_timeout_s`).

With `processes` > 1, each process is a connection of its own with its share of the grid, all in
the same thread. Unlike `SignalRunner`'s clients, a process has many ops in flight.

    rabbitmq_confirms.py  which message each confirm answers (pure)
    rabbitmq_lane.py      one process: its connection, channel and pika's callbacks
    here                  the loop: slots, timeouts, drops and reconnects, the purge, recording
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable
from typing import Any, Literal

import pika
import pika.exceptions
from pika.adapters.select_connection import IOLoop

from drills.core.history import Op, Outcome
from drills.workload.base import DEFAULT_RATE, Clock, Grid, SeqCounter, Sink, Slots, error_text
from drills.workload.rabbitmq import PUBLISH_SIGNAL, RUN_HEADER, QueueSetup, RabbitTarget
from drills.workload.rabbitmq_confirms import Resolved
from drills.workload.rabbitmq_lane import Lane

log = logging.getLogger(__name__)

NOT_CONNECTED = "not connected"
RECONNECT_PAUSE_S = 0.02  # between connection attempts (one slot at 50 ops/s): never a busy loop
CLOSE_GRACE_S = 1.0  # an abandoned connection not closed by then has its socket shut down


def _socket_of(conn: Any) -> socket.socket | None:
    """pika's socket (private attributes, hence the care): shut down to end a connection that does
    not close by itself (a frozen node never answers Connection.Close)."""
    sock = getattr(getattr(conn, "_transport", None), "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


class PurgeOnce:
    """Drills' own queue is purged once, before anything is published: by the consumer (which
    purges synchronously, `QueueSetup.ensure`) or by one of the lanes, asynchronously (the loop
    cannot block on the broker). A lane in confirm mode publishes only once the purge is done. The
    stack's queue is never purged: its `QueueSetup` counts the purge as done from the start."""

    def __init__(self, setup: QueueSetup) -> None:
        self._setup = setup
        self._state: Literal["todo", "running", "done"] = "todo"
        self._purger: tuple[int, int] | None = None  # (process, gen) of the lane purging

    def begin(self, lane: Lane) -> Literal["purge", "ready", "wait"]:
        """For a lane now in confirm mode: purge (it is the lane's to do), ready (done already), or
        wait (another lane purges, and readies this one when done)."""
        if self._state == "todo" and self._setup.claim_purge():
            self._state, self._purger = "running", (lane.process, lane.gen)
            return "purge"
        if self._state == "todo":
            self._state = "done"  # the consumer purged already (it does so under the lock)
        return "ready" if self._state == "done" else "wait"

    def done(self, lane: Lane) -> bool:
        """Purge-Ok on `lane`: True when that was the purge in course, still on the same connection."""
        if self._state != "running" or self._purger != (lane.process, lane.gen):
            return False
        self._state, self._purger = "done", None
        return True

    def abandoned(self, lane: Lane) -> bool:
        """`lane` loses its connection: True when it was purging (the next lane ready purges again)."""
        if self._state != "running" or self._purger != (lane.process, lane.gen):
            return False
        self._state, self._purger = "todo", None
        self._setup.release_purge()
        return True


class PipelinedPublisher:
    """The rabbitmq.publish signal, pipelined: the runner interface of `SignalRunner` (`signal`,
    `first_ok`, `start`, `stop`, `request_stop`, `summary`) with the client inside. It is the
    `LaneOwner` of its lanes (`finished`, `now`, `guarded`, `lost`, `channel_lost`,
    `confirm_selected`, `resolved`)."""

    def __init__(self, target: RabbitTarget, setup: QueueSetup, sink: Sink, clock: Clock, *,
                 rate: float = DEFAULT_RATE, processes: int = 1, seq: SeqCounter | None = None,
                 signal: str = PUBLISH_SIGNAL) -> None:
        if rate <= 0 or processes < 1:
            raise ValueError(f"{signal}: rate must be > 0 and processes >= 1 (got {rate}, {processes})")
        if not target.endpoints:
            raise ValueError(f"{signal}: no RabbitMQ endpoints")
        self.signal = signal
        self.target = target
        self.rate = rate
        self.processes = processes
        self._sink = sink
        self._clock = clock
        self._seq = seq or SeqCounter()
        self._stop = threading.Event()
        self.first_ok = threading.Event()
        self._thread: threading.Thread | None = None
        self._ioloop: Any = None
        self._lanes: list[Lane] = []
        self._unexpected = 0
        self._sink_failed = False
        self._purge = PurgeOnce(setup)
        self._stopping_since: float | None = None
        self._finished = False
        self._closing: list[Any] = []  # connections dropped and not seen closed yet

    # -- the runner interface --

    def start(self) -> None:
        origin = self._clock()
        n = len(self.target.endpoints)
        self._lanes = [Lane(i, Slots(Grid.for_process(origin, self.rate, self.processes, i)), i % n)
                       for i in range(self.processes)]
        self._thread = threading.Thread(target=self._run, name=f"{self.signal}[pipelined]", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self, timeout_s: float = 15.0) -> list[str]:
        """Stop publishing, wait for the confirms in flight (at most `op_timeout_s`), close. Returns
        the thread's name when it did not end within `timeout_s`."""
        self._stop.set()
        if self._thread is None:
            return []
        self._thread.join(timeout_s)
        return [self._thread.name] if self._thread.is_alive() else []

    def close(self) -> None:
        self.stop()

    def summary(self) -> dict[str, float | int]:
        lanes = list(self._lanes)
        return {"ops": sum(la.ops for la in lanes), "skipped_slots": sum(la.slots.skipped for la in lanes),
                "unexpected": self._unexpected, "reconnects": sum(la.reconnects for la in lanes),
                "max_in_flight": max((la.max_in_flight for la in lanes), default=0)}

    # -- what the lanes report --

    @property
    def finished(self) -> bool:
        return self._finished

    def now(self) -> float:
        return self._clock()

    def guarded(self, fn: Callable[..., None]) -> Callable[..., None]:
        """A callback that never lets an exception into pika's loop (that would end it)."""
        def call(*args: Any) -> None:
            try:
                fn(*args)
            except Exception:
                self._unexpected += 1
                log.exception("%s: a callback failed", self.signal)

        return call

    def lost(self, lane: Lane, why: str) -> None:
        """The connection failed or closed by itself: resolve, then try the next node shortly."""
        self.resolved(lane, self._abandon(lane, self._clock(), why))
        lane.detach()
        self._reconnect_later(lane)

    def channel_lost(self, lane: Lane, why: str) -> None:
        if lane.confirms is None:
            # Closed while being set up (the stack's queue not there: 404 to the passive declare):
            # the next attempt gets the same answer, so it waits a moment, never a tight loop.
            self._drop(lane, why, reconnect=False)
            self._reconnect_later(lane)
            return
        self._drop(lane, why, reconnect=self._stopping_since is None)

    def _reconnect_later(self, lane: Lane) -> None:
        if self._stopping_since is not None or self._finished:
            return
        lane.reconnects += 1
        gen = lane.gen

        def retry() -> None:
            if lane.gen == gen and self._stopping_since is None and not self._finished:
                lane.connect(self.target, self._ioloop, self)

        self._ioloop.call_later(RECONNECT_PAUSE_S, self.guarded(retry))

    def confirm_selected(self, lane: Lane) -> None:
        step = self._purge.begin(lane)
        if step == "purge":
            def purged(_frame: Any) -> None:
                if self._purge.done(lane):
                    for la in self._lanes:
                        if la.waits_for_purge:
                            la.ready(self._clock())

            lane.channel.queue_purge(self.target.queue, callback=self.guarded(purged))
        elif step == "ready":
            lane.ready(self._clock())

    def resolved(self, lane: Lane, done: list[Resolved]) -> None:
        for r in done:
            self._record(Op(self.signal, lane.process, "publish", r.seq, r.start, r.end, r.outcome, r.error))

    # -- the loop --

    def _run(self) -> None:
        self._ioloop = IOLoop()
        try:
            for lane in self._lanes:
                lane.connect(self.target, self._ioloop, self)
                self._ioloop.call_later(0, self.guarded(lambda la=lane: self._tick(la)))
            while not self._finished:
                try:
                    self._ioloop.start()
                except Exception:  # pika's own: start over from fresh connections, never end the signal
                    self._unexpected += 1
                    log.exception("%s: the I/O loop failed", self.signal)
                    for lane in self._lanes:
                        self._drop(lane, "I/O loop failed", reconnect=not self._finished)
                    self._stop.wait(0.1)  # never a busy loop
        finally:
            now = self._clock()
            for lane in self._lanes:
                self.resolved(lane, self._abandon(lane, now, "publisher stopped while unconfirmed"))
            for conn in [la.conn for la in self._lanes if la.conn is not None] + self._closing:
                sock = _socket_of(conn)
                if sock is not None and not conn.is_closed:  # a node that never answered the close
                    with contextlib.suppress(OSError):
                        sock.close()
            try:
                self._ioloop.close()
            except Exception:
                log.debug("closing the I/O loop failed", exc_info=True)

    def _tick(self, lane: Lane) -> None:
        if self._finished:
            return
        now = self._clock()
        if self._stop.is_set() and self._stopping_since is None:
            self._stopping_since = now
        if self._stopping_since is not None:
            self._tick_stopping(now)
            if self._finished:
                return
        elif lane.slots.take(now):
            self._publish(lane, now)
        self._check(lane, self._clock())
        delay = lane.slots.wait(self._clock()) if self._stopping_since is None else 0.02
        self._ioloop.call_later(delay, self.guarded(lambda: self._tick(lane)))

    def _tick_stopping(self, now: float) -> None:
        waiting = any(la.confirms is not None and len(la.confirms) for la in self._lanes)
        if waiting and now - (self._stopping_since or now) < self.target.op_timeout_s:
            return  # the confirms in flight still come (expiry turns the late ones into info)
        conns = [la.conn for la in self._lanes if la.conn is not None]
        for lane in self._lanes:
            self._drop(lane, "publisher stopped while unconfirmed", reconnect=False)
        self._finished = True
        # Let the Connection.Close frames go out; a node that does not answer gets CLOSE_GRACE_S.
        deadline = now + CLOSE_GRACE_S

        def closed_or_late() -> None:
            if all(c.is_closed for c in conns) or self._clock() >= deadline:
                self._ioloop.stop()
            else:
                self._ioloop.call_later(0.02, closed_or_late)

        closed_or_late()

    def _publish(self, lane: Lane, start: float) -> None:
        seq = self._seq()
        lane.ops += 1
        if lane.confirms is None:
            self._record(Op(self.signal, lane.process, "publish", seq, start, self._clock(), Outcome.FAIL,
                            NOT_CONNECTED))
            return
        props = pika.BasicProperties(message_id=str(seq), delivery_mode=pika.DeliveryMode.Persistent,
                                     headers={RUN_HEADER: self.target.run})
        try:
            lane.channel.basic_publish("", self.target.queue, str(seq).encode(), props, mandatory=True)
        except (pika.exceptions.ChannelWrongStateError, pika.exceptions.ConnectionWrongStateError) as exc:
            self._record(Op(self.signal, lane.process, "publish", seq, start, self._clock(), Outcome.FAIL,
                            f"{NOT_CONNECTED}: {error_text(exc)}"))
            self._drop(lane, "channel closed", reconnect=True)
            return
        except Exception as exc:  # unclassified: maybe written
            self._unexpected += 1
            self._record(Op(self.signal, lane.process, "publish", seq, start, self._clock(), Outcome.INFO,
                            "unexpected " + error_text(exc)))
            self._drop(lane, "unexpected publish error", reconnect=True)
            return
        lane.confirms.published(seq, start)
        lane.max_in_flight = max(lane.max_in_flight, len(lane.confirms))

    def _check(self, lane: Lane, now: float) -> None:
        """Timeouts: a stalled connection is dropped, single late messages become info, and a
        connection or channel set-up that takes longer than the op timeout is given up."""
        timeout = self.target.op_timeout_s
        if lane.confirms is not None:
            if lane.confirms.stalled(now, timeout):
                self._drop(lane, f"no confirm for {timeout:g} s: connection dropped while unconfirmed",
                           reconnect=self._stopping_since is None)
                return
            self.resolved(lane, lane.confirms.expired(now, timeout))
        elif lane.connecting_since is not None and now - lane.connecting_since > timeout:
            self._drop(lane, "set-up timed out", reconnect=self._stopping_since is None)

    # -- dropping connections --

    def _drop(self, lane: Lane, why: str, *, reconnect: bool) -> None:
        """Give up the lane's connection (stalled, broken channel, stopping): its unconfirmed
        messages are info; close it in the background; connect to the next node at once."""
        self.resolved(lane, self._abandon(lane, self._clock(), why))
        conn = lane.detach()
        if conn is not None:
            self._close_in_background(conn)
        if reconnect and not self._finished:
            lane.reconnects += 1
            lane.connect(self.target, self._ioloop, self)

    def _abandon(self, lane: Lane, now: float, why: str) -> list[Resolved]:
        confirms = lane.take_confirms()
        if self._purge.abandoned(lane):
            # The purging lane went away before Purge-Ok: the next lane to be ready purges again.
            for la in self._lanes:
                if la is not lane and la.waits_for_purge:
                    self.confirm_selected(la)
                    break
        return confirms.abandon(now, why) if confirms is not None else []

    def _close_in_background(self, conn: Any) -> None:
        if conn.is_closed:
            return
        self._closing = [c for c in self._closing if not c.is_closed] + [conn]
        if not conn.is_closing:
            try:
                conn.close()
            except Exception:
                log.debug("closing an abandoned connection failed", exc_info=True)

        def force() -> None:
            if not conn.is_closed:
                sock = _socket_of(conn)
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)

        if not self._finished:
            self._ioloop.call_later(CLOSE_GRACE_S, self.guarded(force))

    # -- recording --

    def _record(self, op: Op) -> None:
        if op.outcome is Outcome.OK:
            self.first_ok.set()
        try:
            self._sink(op)
        except Exception:
            if not self._sink_failed:
                self._sink_failed = True
                log.exception("%s: recording an op failed", self.signal)
