"""rabbitmq.publish, pipelined: a publish starts on every grid slot, whatever became of the others.

The synchronous `drills.workload.rabbitmq.Publisher` has one message in flight per process: when
the broker stops confirming (a partitioned queue leader), each publish blocks for its 5 s op
timeout, no op starts meanwhile, and the end of the outage is only known to within those 5 s.
Here one thread runs pika's asynchronous `SelectConnection` on an IOLoop of its own: a timer
publishes on every slot of the signal's grid (`origin + k / rate`; a late loop skips the slots it
missed, counted, instead of bursting) and the confirms are matched to their messages as they come.

The messages and their semantics are those of the synchronous publisher (see its module):
message id = str(seq) (a shared counter), persistent, `mandatory`, header `x-drill-run` = the run
token, to the quorum queue `drill-events`, declared on every new channel and purged once per
drill (`QueueSetup`). One op per publish, `start` = the slot's actual start:

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
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pika
import pika.exceptions
import pika.spec
from pika.adapters.select_connection import IOLoop, SelectConnection

from drills.history import Op, Outcome
from drills.workload.base import DEFAULT_RATE, Clock, Grid, SeqCounter, Sink, error_text
from drills.workload.rabbitmq import PUBLISH_SIGNAL, QUEUE_ARGUMENTS, RUN_HEADER, QueueSetup, RabbitTarget

log = logging.getLogger(__name__)

NOT_CONNECTED = "not connected"
RETURNED = "returned: unroutable"
NACKED = "nacked by the broker"
RECONNECT_PAUSE_S = 0.02  # between connection attempts (one slot at 50 ops/s): never a busy loop
CLOSE_GRACE_S = 1.0  # an abandoned connection not closed by then has its socket shut down


# ---- the pure parts -----------------------------------------------------------------------------


@dataclass(slots=True)
class Pending:
    """A message published on a confirm channel, waiting for its confirm."""

    seq: int
    tag: int
    start: float
    returned: bool = False


@dataclass(frozen=True, slots=True)
class Resolved:
    """What became of a pending message: the op to record is (seq, start, end, outcome, error)."""

    seq: int
    start: float
    end: float
    outcome: Outcome
    error: str | None = None


class Confirms:
    """The unconfirmed messages of one channel, by delivery tag (1, 2, ... in publishing order, as
    the broker numbers them on a channel in confirm mode). No I/O: the clock is passed in."""

    def __init__(self, since: float) -> None:
        self._pending: dict[int, Pending] = {}  # insertion order = tag order = start order
        self._tag_of: dict[int, int] = {}  # seq -> tag, for Basic.Return (it carries the message id)
        self._next_tag = 1
        self.last_answer = since  # the last ack or nack, or when the channel became ready

    def __len__(self) -> int:
        return len(self._pending)

    def published(self, seq: int, start: float) -> int:
        """Call once basic_publish has returned; the message's delivery tag."""
        tag = self._next_tag
        self._next_tag += 1
        self._pending[tag] = Pending(seq, tag, start)
        self._tag_of[seq] = tag
        return tag

    def returned(self, seq: int) -> bool:
        """Basic.Return for message `seq`: its ack (which follows) makes it a `fail`."""
        tag = self._tag_of.get(seq)
        p = self._pending.get(tag) if tag is not None else None
        if p is None:
            return False
        p.returned = True
        return True

    def _take(self, tag: int, multiple: bool) -> Iterator[Pending]:
        if multiple:
            for t in list(self._pending):
                if t > tag:
                    break
                yield self._pop(t)
        elif tag in self._pending:
            yield self._pop(tag)

    def _pop(self, tag: int) -> Pending:
        p = self._pending.pop(tag)
        self._tag_of.pop(p.seq, None)
        return p

    def ack(self, tag: int, multiple: bool, now: float) -> list[Resolved]:
        """Basic.Ack: ok, or fail for a message that came back unroutable. Tags already resolved
        (timed out) are ignored."""
        self.last_answer = now
        return [Resolved(p.seq, p.start, now, Outcome.FAIL, RETURNED) if p.returned
                else Resolved(p.seq, p.start, now, Outcome.OK) for p in self._take(tag, multiple)]

    def nack(self, tag: int, multiple: bool, now: float) -> list[Resolved]:
        self.last_answer = now
        return [Resolved(p.seq, p.start, now, Outcome.FAIL, RETURNED if p.returned else NACKED)
                for p in self._take(tag, multiple)]

    def stalled(self, now: float, timeout_s: float) -> bool:
        """Messages wait, the oldest for `timeout_s` or more, and nothing was confirmed for as long:
        the connection is of no use (a partitioned or frozen node)."""
        oldest = next(iter(self._pending.values()), None)
        return (oldest is not None and now - oldest.start >= timeout_s
                and now - self.last_answer >= timeout_s)

    def expired(self, now: float, timeout_s: float) -> list[Resolved]:
        """The messages unconfirmed after `timeout_s`: `info` (the broker may still enqueue them)."""
        out: list[Resolved] = []
        for tag, p in list(self._pending.items()):
            if now - p.start < timeout_s:
                break  # the rest are younger
            self._pop(tag)
            out.append(Resolved(p.seq, p.start, now, Outcome.INFO,
                                f"timeout after {timeout_s:g} s waiting for the confirm"))
        return out

    def abandon(self, now: float, why: str) -> list[Resolved]:
        """The channel is gone: every unconfirmed message is `info`."""
        out = [Resolved(p.seq, p.start, now, Outcome.INFO, why) for p in self._pending.values()]
        self._pending.clear()
        self._tag_of.clear()
        return out


class Slots:
    """The slots of one process on its grid. `take(now)` says whether a slot is due and moves on;
    when the loop is late by more than a period it keeps only the last due slot and counts the
    others as skipped (no burst to catch up)."""

    def __init__(self, grid: Grid) -> None:
        self.grid = grid
        self.next = grid.first
        self.skipped = 0

    def take(self, now: float) -> bool:
        # Due up to float error, by the same tolerance as `Grid.at_or_before` (a billionth of a
        # period): otherwise a `now` that is a slot but for rounding was neither taken nor skipped.
        if (self.next - now) / self.grid.period > 1e-9:
            return False
        due = max(self.next, self.grid.at_or_before(now))
        self.skipped += max(0, round((due - self.next) / self.grid.period))
        self.next = due + self.grid.period
        return True

    def wait(self, now: float) -> float:
        """Seconds until the next slot (0 when due)."""
        return max(0.0, self.next - now)


# ---- the publisher ------------------------------------------------------------------------------


@dataclass
class _Lane:
    """One client process: a connection, its confirm channel, its share of the grid."""

    process: int
    slots: Slots
    next_endpoint: int
    gen: int = 0  # bumped whenever the connection is dropped: callbacks of older ones are ignored
    conn: Any = None  # SelectConnection
    channel: Any = None  # pika.channel.Channel
    confirms: Confirms | None = None  # set once the channel is ready (confirm mode, queue purged)
    confirm_selected: bool = False
    connecting_since: float | None = None
    endpoint: str = ""
    ops: int = 0
    reconnects: int = 0
    max_in_flight: int = 0


def _socket_of(conn: Any) -> socket.socket | None:
    """pika's socket (private attributes, hence the care): shut down to end a connection that does
    not close by itself (a frozen node never answers Connection.Close)."""
    sock = getattr(getattr(conn, "_transport", None), "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


def _claim_purge(setup: QueueSetup) -> bool:
    """True when the once-per-drill purge is ours to do (nobody did or started it). `QueueSetup`
    purges synchronously under its lock; this publisher cannot block its loop on the broker, so it
    claims the purge under the same lock and does it asynchronously (publishing only after)."""
    with setup._lock:
        if setup._purged:
            return False
        setup._purged = True
        return True


def _unclaim_purge(setup: QueueSetup) -> None:
    with setup._lock:
        setup._purged = False


class PipelinedPublisher:
    """The rabbitmq.publish signal, pipelined: the runner interface of `SignalRunner` (`signal`,
    `first_ok`, `start`, `stop`, `request_stop`, `summary`) with the client inside."""

    def __init__(self, target: RabbitTarget, setup: QueueSetup, sink: Sink, clock: Clock, *,
                 rate: float = DEFAULT_RATE, processes: int = 1, seq: SeqCounter | None = None,
                 signal: str = PUBLISH_SIGNAL) -> None:
        if rate <= 0 or processes < 1:
            raise ValueError(f"{signal}: rate must be > 0 and processes >= 1 (got {rate}, {processes})")
        if not target.endpoints:
            raise ValueError(f"{signal}: no RabbitMQ endpoints")
        self.signal = signal
        self.target = target
        self.setup = setup
        self.rate = rate
        self.processes = processes
        self._sink = sink
        self._clock = clock
        self._seq = seq or SeqCounter()
        self._stop = threading.Event()
        self.first_ok = threading.Event()
        self._thread: threading.Thread | None = None
        self._ioloop: Any = None
        self._lanes: list[_Lane] = []
        self._unexpected = 0
        self._sink_failed = False
        self._purge = "todo"  # todo -> running (one of our lanes purges) -> done
        self._purger: tuple[int, int] | None = None  # (process, gen) of the lane purging
        self._stopping_since: float | None = None
        self._finished = False
        self._closing: list[Any] = []  # connections dropped and not seen closed yet

    # -- the runner interface --

    def start(self) -> None:
        origin = self._clock()
        n = len(self.target.endpoints)
        self._lanes = [_Lane(i, Slots(Grid.for_process(origin, self.rate, self.processes, i)), i % n)
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

    # -- the loop --

    def _run(self) -> None:
        self._ioloop = IOLoop()
        try:
            for lane in self._lanes:
                self._connect(lane)
                self._ioloop.call_later(0, self._guarded(lambda la=lane: self._tick(la)))
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
                self._resolve(lane, self._abandon(lane, now, "publisher stopped while unconfirmed"))
            for conn in [la.conn for la in self._lanes if la.conn is not None] + self._closing:
                sock = _socket_of(conn)
                if sock is not None and not conn.is_closed:  # a node that never answered the close
                    with contextlib.suppress(OSError):
                        sock.close()
            try:
                self._ioloop.close()
            except Exception:
                log.debug("closing the I/O loop failed", exc_info=True)

    def _guarded(self, fn: Callable[..., None]) -> Callable[..., None]:
        """A callback that never lets an exception into pika's loop (that would end it)."""
        def call(*args: Any) -> None:
            try:
                fn(*args)
            except Exception:
                self._unexpected += 1
                log.exception("%s: a callback failed", self.signal)

        return call

    def _tick(self, lane: _Lane) -> None:
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
        self._ioloop.call_later(delay, self._guarded(lambda: self._tick(lane)))

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

    def _publish(self, lane: _Lane, start: float) -> None:
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

    def _check(self, lane: _Lane, now: float) -> None:
        """Timeouts: a stalled connection is dropped, single late messages become info, and a
        connection or channel set-up that takes longer than the op timeout is given up."""
        timeout = self.target.op_timeout_s
        if lane.confirms is not None:
            if lane.confirms.stalled(now, timeout):
                self._drop(lane, f"no confirm for {timeout:g} s: connection dropped while unconfirmed",
                           reconnect=self._stopping_since is None)
                return
            self._resolve(lane, lane.confirms.expired(now, timeout))
        elif lane.connecting_since is not None and now - lane.connecting_since > timeout:
            self._drop(lane, "set-up timed out", reconnect=self._stopping_since is None)

    # -- connecting --

    def _connect(self, lane: _Lane) -> None:
        lane.gen += 1
        gen = lane.gen
        n = len(self.target.endpoints)
        host, port = self.target.endpoints[lane.next_endpoint % n]
        lane.next_endpoint = (lane.next_endpoint + 1) % n
        lane.endpoint = f"{host}:{port}"
        lane.connecting_since = self._clock()
        lane.confirms, lane.channel, lane.confirm_selected = None, None, False

        def current() -> bool:
            return lane.gen == gen and not self._finished

        def opened(conn: Any) -> None:
            if current():
                conn.channel(on_open_callback=self._guarded(channel_open))

        def open_failed(_conn: Any, exc: BaseException) -> None:
            if current():
                self._lost(lane, f"connect {lane.endpoint}: {error_text(exc, 160)}")

        def closed(_conn: Any, exc: BaseException) -> None:
            if current():
                self._lost(lane, f"connection lost while unconfirmed: {error_text(exc, 160)}")

        def channel_open(channel: Any) -> None:
            if not current():
                return
            lane.channel = channel
            channel.add_on_close_callback(self._guarded(channel_closed))
            channel.add_on_return_callback(self._guarded(returned))
            channel.queue_declare(self.target.queue, durable=True, arguments=QUEUE_ARGUMENTS,
                                  callback=self._guarded(declared))

        def channel_closed(_channel: Any, exc: BaseException) -> None:
            if current():
                self._drop(lane, f"channel lost while unconfirmed: {error_text(exc, 160)}",
                           reconnect=self._stopping_since is None)

        def declared(_frame: Any) -> None:
            if not current():
                return
            lane.channel.confirm_delivery(self._guarded(confirm), callback=self._guarded(confirm_selected))

        def confirm_selected(_frame: Any) -> None:
            if current():
                lane.confirm_selected = True
                self._purge_then_ready(lane)

        def returned(_channel: Any, _method: Any, props: Any, _body: bytes) -> None:
            if current() and lane.confirms is not None:
                try:
                    lane.confirms.returned(int(props.message_id))
                except (TypeError, ValueError):
                    log.debug("returned message without our id: %r", props.message_id)

        def confirm(frame: Any) -> None:
            if not current() or lane.confirms is None:
                return
            method = frame.method
            now = self._clock()
            if isinstance(method, pika.spec.Basic.Ack):
                done = lane.confirms.ack(int(method.delivery_tag), bool(method.multiple), now)
            else:
                done = lane.confirms.nack(int(method.delivery_tag), bool(method.multiple), now)
            self._resolve(lane, done)

        try:
            lane.conn = SelectConnection(
                self.target.parameters(host, port, f"drills-publisher-{lane.process}"),
                on_open_callback=self._guarded(opened), on_open_error_callback=self._guarded(open_failed),
                on_close_callback=self._guarded(closed), custom_ioloop=self._ioloop)
        except Exception as exc:
            lane.conn = None
            self._lost(lane, f"connect {lane.endpoint}: {error_text(exc, 160)}")

    def _purge_then_ready(self, lane: _Lane) -> None:
        """Publishing starts once the drill's queue was purged (once per drill, by whoever comes
        first: the consumer, or one of these lanes)."""
        if self._purge == "todo" and _claim_purge(self.setup):
            self._purge = "running"
            self._purger = (lane.process, lane.gen)

            def purged(_frame: Any) -> None:
                if self._purge != "running" or self._purger != (lane.process, lane.gen):
                    return
                self._purge, self._purger = "done", None
                for la in self._lanes:
                    if la.confirm_selected and la.confirms is None:
                        self._ready(la)

            lane.channel.queue_purge(self.target.queue, callback=self._guarded(purged))
            return
        if self._purge == "todo":
            self._purge = "done"  # the consumer purged already (it does so under the lock)
        if self._purge == "done":
            self._ready(lane)
        # else: one of our lanes purges; it readies this one when done

    def _ready(self, lane: _Lane) -> None:
        lane.confirms = Confirms(self._clock())
        lane.connecting_since = None

    def _lost(self, lane: _Lane, why: str) -> None:
        """The connection failed or closed by itself: resolve, then try the next node shortly."""
        self._resolve(lane, self._abandon(lane, self._clock(), why))
        lane.gen += 1
        lane.conn, lane.channel, lane.connecting_since = None, None, None
        if self._stopping_since is not None or self._finished:
            return
        lane.reconnects += 1
        gen = lane.gen

        def retry() -> None:
            if lane.gen == gen and self._stopping_since is None and not self._finished:
                self._connect(lane)

        self._ioloop.call_later(RECONNECT_PAUSE_S, self._guarded(retry))

    def _drop(self, lane: _Lane, why: str, *, reconnect: bool) -> None:
        """Give up the lane's connection (stalled, broken channel, stopping): its unconfirmed
        messages are info; close it in the background; connect to the next node at once."""
        self._resolve(lane, self._abandon(lane, self._clock(), why))
        conn = lane.conn
        lane.gen += 1
        lane.conn, lane.channel, lane.connecting_since = None, None, None
        if conn is not None:
            self._close_in_background(conn)
        if reconnect and not self._finished:
            lane.reconnects += 1
            self._connect(lane)

    def _abandon(self, lane: _Lane, now: float, why: str) -> list[Resolved]:
        confirms, lane.confirms, lane.confirm_selected = lane.confirms, None, False
        if self._purge == "running" and self._purger == (lane.process, lane.gen):
            # The purging lane went away before Purge-Ok: the next lane to be ready purges again.
            self._purge, self._purger = "todo", None
            _unclaim_purge(self.setup)
            for la in self._lanes:
                if la is not lane and la.confirm_selected and la.confirms is None:
                    self._purge_then_ready(la)
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
            self._ioloop.call_later(CLOSE_GRACE_S, self._guarded(force))

    # -- recording --

    def _resolve(self, lane: _Lane, done: list[Resolved]) -> None:
        for r in done:
            self._record(Op(self.signal, lane.process, "publish", r.seq, r.start, r.end, r.outcome, r.error))

    def _record(self, op: Op) -> None:
        if op.outcome is Outcome.OK:
            self.first_ok.set()
        try:
            self._sink(op)
        except Exception:
            if not self._sink_failed:
                self._sink_failed = True
                log.exception("%s: recording an op failed", self.signal)

