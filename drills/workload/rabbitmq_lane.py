"""One client process of the pipelined publisher: a connection, its confirm channel, its share of
the grid, and pika's callbacks for one connection attempt (`Lane.connect`).

A lane tells its owner (`LaneOwner`, the publisher) what happened and decides nothing itself: the
owner resolves the messages, drops, reconnects and purges. Every callback belongs to one attempt
and is ignored once the lane has moved on to another (`Lane.gen`), or the publisher has finished.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import pika.spec
from pika.adapters.select_connection import SelectConnection

from drills.workload.base import Slots, error_text
from drills.workload.rabbitmq import QUEUE_ARGUMENTS, RabbitTarget
from drills.workload.rabbitmq_confirms import Confirms, Resolved

log = logging.getLogger(__name__)


class LaneOwner(Protocol):
    """What a lane reports to (the publisher)."""

    @property
    def finished(self) -> bool: ...
    def now(self) -> float: ...
    def guarded(self, fn: Callable[..., None]) -> Callable[..., None]:
        """`fn` as a callback for pika's loop: an exception is counted and logged, never raised."""
        ...
    def lost(self, lane: Lane, why: str) -> None:
        """The connection failed to open, or closed by itself."""
        ...
    def channel_lost(self, lane: Lane, why: str) -> None: ...
    def confirm_selected(self, lane: Lane) -> None:
        """The channel is in confirm mode: publishing may start once the queue was purged."""
        ...
    def resolved(self, lane: Lane, done: list[Resolved]) -> None:
        """Confirms arrived: these messages are settled."""
        ...


@dataclass
class Lane:
    process: int
    slots: Slots
    next_endpoint: int  # round robin over the nodes: the next one to try
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

    @property
    def waits_for_purge(self) -> bool:
        return self.confirm_selected and self.confirms is None

    def connect(self, target: RabbitTarget, ioloop: Any, owner: LaneOwner) -> None:
        """Open a connection to the next node, on `ioloop`; the rest happens in its callbacks."""
        self.gen += 1
        n = len(target.endpoints)
        host, port = target.endpoints[self.next_endpoint % n]
        self.next_endpoint = (self.next_endpoint + 1) % n
        self.endpoint = f"{host}:{port}"
        self.connecting_since = owner.now()
        self.confirms, self.channel, self.confirm_selected = None, None, False
        attempt = _Attempt(self, self.gen, target, owner)
        try:
            self.conn = SelectConnection(
                target.parameters(host, port, f"drills-publisher-{self.process}"),
                on_open_callback=owner.guarded(attempt.opened),
                on_open_error_callback=owner.guarded(attempt.open_failed),
                on_close_callback=owner.guarded(attempt.closed), custom_ioloop=ioloop)
        except Exception as exc:
            self.conn = None
            owner.lost(self, f"connect {self.endpoint}: {error_text(exc, 160)}")

    def ready(self, now: float) -> None:
        """The queue is purged: publishing starts."""
        self.confirms = Confirms(now)
        self.connecting_since = None

    def take_confirms(self) -> Confirms | None:
        """The messages waiting for their confirm, handed over (the lane is no longer ready)."""
        confirms, self.confirms, self.confirm_selected = self.confirms, None, False
        return confirms

    def detach(self) -> Any:
        """Forget the connection, whose callbacks are ignored from now on; returns it (or None)."""
        conn = self.conn
        self.gen += 1
        self.conn, self.channel, self.connecting_since = None, None, None
        return conn


class _Attempt:
    """pika's callbacks for one connection attempt of a lane: open the connection, then a channel,
    declare the queue (the stack's: check it, passively), select confirm mode; then returns and
    confirms as they come."""

    def __init__(self, lane: Lane, gen: int, target: RabbitTarget, owner: LaneOwner) -> None:
        self.lane = lane
        self.gen = gen
        self.target = target
        self.owner = owner

    def current(self) -> bool:
        return self.lane.gen == self.gen and not self.owner.finished

    def opened(self, conn: Any) -> None:
        if self.current():
            conn.channel(on_open_callback=self.owner.guarded(self.channel_open))

    def open_failed(self, _conn: Any, exc: BaseException) -> None:
        if self.current():
            self.owner.lost(self.lane, f"connect {self.lane.endpoint}: {error_text(exc, 160)}")

    def closed(self, _conn: Any, exc: BaseException) -> None:
        if self.current():
            self.owner.lost(self.lane, f"connection lost while unconfirmed: {error_text(exc, 160)}")

    def channel_open(self, channel: Any) -> None:
        if not self.current():
            return
        self.lane.channel = channel
        channel.add_on_close_callback(self.owner.guarded(self.channel_closed))
        channel.add_on_return_callback(self.owner.guarded(self.returned))
        if self.target.stack_queue:  # the stack's: only checked, never declared (drills.workload.rabbitmq)
            channel.queue_declare(self.target.queue, passive=True, callback=self.owner.guarded(self.declared))
        else:
            channel.queue_declare(self.target.queue, durable=True, arguments=QUEUE_ARGUMENTS,
                                  callback=self.owner.guarded(self.declared))

    def channel_closed(self, _channel: Any, exc: BaseException) -> None:
        if self.current():
            self.owner.channel_lost(self.lane, f"channel lost while unconfirmed: {error_text(exc, 160)}")

    def declared(self, _frame: Any) -> None:
        if self.current():
            self.lane.channel.confirm_delivery(self.owner.guarded(self.confirm),
                                               callback=self.owner.guarded(self.selected))

    def selected(self, _frame: Any) -> None:
        if self.current():
            self.lane.confirm_selected = True
            self.owner.confirm_selected(self.lane)

    def returned(self, _channel: Any, _method: Any, props: Any, _body: bytes) -> None:
        if self.current() and self.lane.confirms is not None:
            try:
                self.lane.confirms.returned(int(props.message_id))
            except (TypeError, ValueError):
                log.debug("returned message without our id: %r", props.message_id)

    def confirm(self, frame: Any) -> None:
        confirms = self.lane.confirms
        if not self.current() or confirms is None:
            return
        method = frame.method
        now = self.owner.now()
        if isinstance(method, pika.spec.Basic.Ack):
            done = confirms.ack(int(method.delivery_tag), bool(method.multiple), now)
        else:
            done = confirms.nack(int(method.delivery_tag), bool(method.multiple), now)
        self.owner.resolved(self.lane, done)
