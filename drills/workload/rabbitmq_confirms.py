"""Publisher confirms of one channel, by delivery tag: which message each ack or nack answers.

No I/O and no pika: the clock is passed in, so every rule is tested on made-up sequences
(`tests/unit/test_workload_pipelined.py`). Used by the pipelined publisher
(`drills.workload.rabbitmq_pipelined`), which has many messages in flight per channel.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from drills.core.history import Outcome

RETURNED = "returned: unroutable"
NACKED = "nacked by the broker"


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
