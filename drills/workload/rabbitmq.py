"""rabbitmq.publish and rabbitmq.consume: publisher confirms in, manual acks out, one queue.

The queue is the stack's when its stack file names one (`components.rabbitmq.signal_queue`): the
stack's application declares it, and Drills only checks that it is there (a passive declare),
never declares, purges, deletes or changes it. Otherwise it is Drills' own quorum queue
`drill-events`, declared on every new channel (idempotent) and purged once per drill.

Publishers send message `seq` (message id = str(seq)) to the queue with
publisher confirms and `mandatory`, so that a message the broker cannot route comes back instead
of being confirmed and dropped (field notes: a classic queue whose node is down does exactly
that). Outcomes: confirmed -> `ok`; returned (unroutable) or nacked -> `fail`; not connected, or
the channel already closed -> `fail` (nothing sent); the connection lost while waiting for the
confirm -> `info` (the broker may have enqueued it).

A consumer runs alongside with manual acks: every delivery is an op `rabbitmq.consume` (`ok`,
value = the message id), recorded *before* the ack, so a crash between the two shows up as a
duplicate (at-least-once), never as a loss. Loss is judged by confirmed versus consumed after
`drain()`, never by confirms alone.

Messages carry the drill's run token in a header: the consumer acks and ignores messages of
another drill (and any without the header), so a leftover of an earlier drill on the same stack
can never pass for one of this drill's: the stack's queue is never purged, and Drills' own is
purged when the drill starts. A stack's queue is best one nothing else publishes to or consumes
from (the reference application's `drill-events`): the consumer takes whatever it holds.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel

from drills.core.history import Op, Outcome
from drills.workload.base import DEFAULT_OP_TIMEOUT_S, Clock, Result, Sink, Watchdog, error_text

# pika logs every lost connection at ERROR; without a handler of its own that lands on stderr
# through logging's last resort, in the middle of the drill's progress lines. The history has it.
logging.getLogger("pika").addHandler(logging.NullHandler())
logging.getLogger("pika").propagate = False

log = logging.getLogger(__name__)

QUEUE = "drill-events"  # Drills' own queue, for a stack file that names no signal_queue
QUEUE_ARGUMENTS: dict[str, Any] = {"x-queue-type": "quorum"}  # Drills' own queue's, never a stack's
RUN_HEADER = "x-drill-run"
NOT_FOUND = 404  # AMQP's reply code to a passive declare of a queue that is not there
PUBLISH_SIGNAL = "rabbitmq.publish"
CONSUME_SIGNAL = "rabbitmq.consume"


@dataclass(frozen=True)
class RabbitTarget:
    endpoints: tuple[tuple[str, int], ...]  # every node's AMQP port, as the host reaches it
    password: str
    run: str  # this drill's token (see the module docstring)
    user: str  # the stack file's components.rabbitmq.user
    vhost: str = "/"
    queue: str = QUEUE
    # The stack declares `queue` (its stack file's signal_queue): checked passively, never declared,
    # purged or changed. False: Drills' own queue, declared with QUEUE_ARGUMENTS and purged per drill.
    stack_queue: bool = False
    connect_timeout_s: float = 2.0
    heartbeat_s: int = 2  # pika closes a silent connection after heartbeat + 5 s
    op_timeout_s: float = DEFAULT_OP_TIMEOUT_S

    def parameters(self, host: str, port: int, name: str) -> pika.ConnectionParameters:
        return pika.ConnectionParameters(
            host=host, port=port, virtual_host=self.vhost,
            credentials=pika.PlainCredentials(self.user, self.password),
            connection_attempts=1, retry_delay=0, socket_timeout=self.connect_timeout_s,
            stack_timeout=self.connect_timeout_s + 1, blocked_connection_timeout=self.op_timeout_s,
            heartbeat=self.heartbeat_s, client_properties={"connection_name": name})


def connect(target: RabbitTarget, first: int, name: str) -> tuple[pika.BlockingConnection, int]:
    """A connection to the first node that accepts one, trying them in turn from index `first`.
    Returns it with the index of the node; raises the last error when none did."""
    if not target.endpoints:
        raise pika.exceptions.AMQPConnectionError("no RabbitMQ endpoints")
    errors: list[str] = []
    n = len(target.endpoints)
    for k in range(n):
        i = (first + k) % n
        host, port = target.endpoints[i]
        try:
            return pika.BlockingConnection(target.parameters(host, port, name)), i
        except Exception as exc:  # AMQPError, OSError, and pika's connection-workflow errors
            errors.append(f"{host}:{port} {error_text(exc, 120)}")
    raise pika.exceptions.AMQPConnectionError("; ".join(errors))


class QueueSetup:
    """Drills' own queue: declared on every new channel (idempotent: it may be a new cluster after a
    total failure) and purged once per drill, before anything is published or consumed.

    The stack's queue (`passive`): only checked on every new channel with a passive declare, which
    changes nothing and fails (404, the channel closed) while the queue is not there; never purged."""

    def __init__(self, queue: str, *, passive: bool = False) -> None:
        self.queue = queue
        self.passive = passive
        self._lock = threading.Lock()
        self._purged = passive  # the stack's queue is not ours to purge: as if done already

    def ensure(self, channel: BlockingChannel) -> None:
        if self.passive:
            channel.queue_declare(self.queue, passive=True)
            return
        channel.queue_declare(self.queue, durable=True, arguments=QUEUE_ARGUMENTS)
        with self._lock:
            if not self._purged:
                channel.queue_purge(self.queue)
                self._purged = True

    def claim_purge(self) -> bool:
        """For a client that cannot block on the broker (the pipelined publisher): True when the
        purge is its to do, nobody having done or claimed it; it is then counted as done, and the
        client purges before it publishes. Under the lock `ensure` purges under, so that the two
        never both purge, and never neither."""
        with self._lock:
            if self._purged:
                return False
            self._purged = True
            return True

    def release_purge(self) -> None:
        """The claimed purge did not complete (its connection went away): the next one to come purges."""
        with self._lock:
            self._purged = False


def missing_queue(target: RabbitTarget) -> str | None:
    """The broker's answer when the stack's queue is not there (a passive declare, which changes
    nothing), else None: there, or no node answered (the warm-up's ops show that)."""
    try:
        conn, _ = connect(target, 0, "drills-queue-check")
    except pika.exceptions.AMQPError:
        return None
    try:
        conn.channel().queue_declare(target.queue, passive=True)
        return None
    except pika.exceptions.ChannelClosedByBroker as exc:
        return f"{exc.reply_code} {exc.reply_text}" if exc.reply_code == NOT_FOUND else None
    except (pika.exceptions.AMQPError, OSError):
        return None
    finally:
        _close_quietly(conn)


def classify_publish_error(exc: BaseException) -> Outcome:
    """The outcome of a basic_publish (in confirm mode) that raised `exc`."""
    if isinstance(exc, pika.exceptions.UnroutableError | pika.exceptions.NackError):
        return Outcome.FAIL  # the broker's answer: returned, or refused
    if isinstance(exc, pika.exceptions.ChannelWrongStateError | pika.exceptions.ConnectionWrongStateError):
        return Outcome.FAIL  # raised before anything was written to the socket
    return Outcome.INFO  # lost or closed while the message was in flight: maybe enqueued


def _socket_of(conn: pika.BlockingConnection) -> socket.socket | None:
    """pika's socket, for the watchdog. Private attributes, hence the care: without them an op on
    a frozen node just ends later, at pika's heartbeat timeout."""
    transport = getattr(getattr(conn, "_impl", None), "_transport", None)
    sock = getattr(transport, "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


def _shutdown(sock: socket.socket | None) -> Callable[[], None]:
    def do() -> None:
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)

    return do


def _close_quietly(conn: pika.BlockingConnection | None) -> None:
    if conn is None:
        return
    try:
        if conn.is_open:
            conn.close()
    except Exception:  # already broken: nothing left to close cleanly
        pass


class Publisher:
    kind = "publish"

    def __init__(self, target: RabbitTarget, process: int, setup: QueueSetup) -> None:
        self.target = target
        self.process = process
        self.setup = setup
        self._conn: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        # Spread the processes over the nodes; after a loss, move on to the next node.
        self._next = process % max(1, len(target.endpoints))
        self._watchdog = Watchdog(f"{PUBLISH_SIGNAL}[{process}].watchdog")

    def open(self) -> None:
        """Nothing to do: the first op connects."""

    def _connected(self) -> BlockingChannel:
        if self._conn is not None and self._conn.is_open and self._channel is not None and self._channel.is_open:
            return self._channel
        self.close()
        conn, i = connect(self.target, self._next, f"drills-publisher-{self.process}")
        self._next = (i + 1) % len(self.target.endpoints)
        try:
            channel = conn.channel()
            self.setup.ensure(channel)
            channel.confirm_delivery()
        except BaseException:
            _close_quietly(conn)
            raise
        self._conn, self._channel = conn, channel
        return channel

    def invoke(self, seq: int) -> Result:
        try:
            channel = self._connected()
        except Exception as exc:  # whatever went wrong, nothing was published
            return Result.fail(seq, "connect: " + error_text(exc))
        props = pika.BasicProperties(message_id=str(seq), delivery_mode=pika.DeliveryMode.Persistent,
                                     headers={RUN_HEADER: self.target.run})
        assert self._conn is not None
        self._watchdog.arm(self.target.op_timeout_s, _shutdown(_socket_of(self._conn)))
        try:
            channel.basic_publish("", self.target.queue, str(seq).encode(), props, mandatory=True)
        except (pika.exceptions.AMQPError, OSError) as exc:
            timed_out = self._watchdog.disarm()
            outcome = classify_publish_error(exc)
            answered = isinstance(exc, pika.exceptions.UnroutableError | pika.exceptions.NackError)
            if timed_out or not answered:
                self.close()  # the channel or connection is gone: reconnect on the next op
            if isinstance(exc, pika.exceptions.UnroutableError):
                why = "returned: unroutable"
            elif timed_out:
                why = f"timeout after {self.target.op_timeout_s:g} s waiting for the confirm"
            else:
                why = error_text(exc)
            return Result(outcome, seq, why)
        if self._watchdog.disarm():
            self.close()
        return Result.ok(seq)

    def close(self) -> None:
        conn, self._conn, self._channel = self._conn, None, None
        _close_quietly(conn)

    def shutdown(self) -> None:
        self.close()
        self._watchdog.close()


@dataclass(frozen=True)
class Drained:
    consumed: list[Any]  # every message id consumed during the drill, with repeats (duplicates)
    emptied: bool  # the queue was seen empty and quiet before the timeout


@dataclass
class _ConsumerState:
    consumed: list[Any] = field(default_factory=list)
    foreign: int = 0  # messages of another drill, acked and ignored
    last_delivery: float = 0.0  # time.monotonic()
    depth: int | None = None  # ready messages at the last passive declare
    depth_at: float = 0.0
    connected: bool = False


# The queue is already seen empty (a passive declare after the last delivery) before this counts:
# it only covers a delivery in flight. Requeues of a dead connection's unacked messages happened
# long before the drain (the broker requeues when it sees the connection close). Measured: a 2 s
# quiet made the drain the largest harness cost of a drill (2.1-2.3 s of ~40 s).
QUIET_S = 0.5


class Consumer:
    """Consumes the signal's queue in a thread of its own until `drain()` (or `stop()`)."""

    PREFETCH = 100
    RECONNECT_PAUSE_S = 0.5
    DEPTH_EVERY_S = 0.5

    def __init__(self, target: RabbitTarget, setup: QueueSetup, sink: Sink, clock: Clock) -> None:
        self.target = target
        self.setup = setup
        self._sink = sink
        self._clock = clock
        self._stop = threading.Event()
        self._draining = threading.Event()
        self._lock = threading.Lock()
        self._state = _ConsumerState()
        self._thread: threading.Thread | None = None
        self.first_ok = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"{CONSUME_SIGNAL}[0]", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def drain(self, *, quiet_s: float = QUIET_S, timeout_s: float = 60.0) -> Drained:
        """Keep consuming until the queue is empty and nothing arrived for `quiet_s`, then stop.
        Call it once the publishers have stopped."""
        self._draining.set()
        deadline = time.monotonic() + timeout_s
        emptied = False
        while time.monotonic() < deadline and not emptied:
            with self._lock:
                s = self._state
                now = time.monotonic()
                emptied = (s.connected and s.depth == 0 and s.depth_at > s.last_delivery
                           and now - s.last_delivery >= quiet_s)
            if not emptied:
                time.sleep(0.1)
        self.stop()
        with self._lock:
            return Drained(list(self._state.consumed), emptied)

    @property
    def consumed(self) -> list[Any]:
        with self._lock:
            return list(self._state.consumed)

    def _record(self, op: Op) -> None:
        try:
            self._sink(op)
        except Exception:
            log.exception("%s: recording an op failed", CONSUME_SIGNAL)

    def _run(self) -> None:
        index = 0
        while not self._stop.is_set():
            conn: pika.BlockingConnection | None = None
            t = self._clock()
            try:
                conn, i = connect(self.target, index, "drills-consumer")
                index = i
                self._consume(conn)
            except Exception as exc:  # AMQPError, OSError, or a surprise: never end the consumer
                # A consumer outage: recorded (fail, no value) so the timeline shows it.
                self._record(Op(CONSUME_SIGNAL, 0, "consume", None, t, self._clock(), Outcome.FAIL,
                                error_text(exc)))
                index += 1
            finally:
                with self._lock:
                    self._state.connected = False
                _close_quietly(conn)
            self._stop.wait(self.RECONNECT_PAUSE_S)

    def _consume(self, conn: pika.BlockingConnection) -> None:
        channel = conn.channel()
        self.setup.ensure(channel)
        channel.basic_qos(prefetch_count=self.PREFETCH)
        channel.basic_consume(self.target.queue, self._on_message, auto_ack=False)
        with self._lock:
            self._state.connected = True
        last_depth = 0.0
        while not self._stop.is_set():
            conn.process_data_events(time_limit=0.2)
            if self._draining.is_set() and time.monotonic() - last_depth >= self.DEPTH_EVERY_S:
                declared = channel.queue_declare(self.target.queue, passive=True)
                last_depth = time.monotonic()
                with self._lock:
                    self._state.depth = int(declared.method.message_count)
                    self._state.depth_at = last_depth

    def _on_message(self, channel: BlockingChannel, method: Any, props: pika.BasicProperties, body: bytes) -> None:
        now = self._clock()
        headers = props.headers or {}
        run = headers.get(RUN_HEADER)
        if isinstance(run, bytes):
            run = run.decode()
        if run != self.target.run:
            with self._lock:
                self._state.foreign += 1
        else:
            value = _message_value(props.message_id)
            self._record(Op(CONSUME_SIGNAL, 0, "consume", value, now, now, Outcome.OK))
            self.first_ok.set()
            with self._lock:
                self._state.consumed.append(value)
                self._state.last_delivery = time.monotonic()
        channel.basic_ack(method.delivery_tag)


def _message_value(message_id: str | None) -> Any:
    """Message ids are our seqs; anything else is kept as it came (and will show as unexpected)."""
    try:
        return int(message_id) if message_id is not None else None
    except ValueError:
        return message_id


class RabbitSignal:
    """The rabbitmq.publish signal with its consumer."""

    signal = PUBLISH_SIGNAL

    def __init__(self, target: RabbitTarget, sink: Sink, clock: Clock) -> None:
        self.target = target
        self.setup = QueueSetup(target.queue, passive=target.stack_queue)
        self.consumer = Consumer(target, self.setup, sink, clock)
        self._publishers: list[Publisher] = []

    def client(self, process: int) -> Publisher:
        p = Publisher(self.target, process, self.setup)
        self._publishers.append(p)
        return p

    def drain(self, *, quiet_s: float = QUIET_S, timeout_s: float = 60.0) -> Drained:
        return self.consumer.drain(quiet_s=quiet_s, timeout_s=timeout_s)

    def close(self) -> None:
        self.consumer.stop()
        for p in self._publishers:
            p.shutdown()
