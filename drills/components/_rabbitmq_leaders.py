"""Who leads a RabbitMQ quorum queue, asked of each node through a drill: the RabbitMQ adapter's
leader rounds, kept here until that adapter module exists (docs/plans/components-protocol.md, C-R3);
the registry lists them under `LEGACY_LEADERS`, and `drills.sampling.leaders.RoundsSampler` runs
them. They are the evidence of a failover (drills.checkers.failover) for a fault on
`rabbitmq.leader@<queue>`.

A RabbitMQ cluster has no leader of its own; each quorum queue has one (its Raft leader), and
the management API names it (`leader`, a node name: rabbit@rabbit2 is the service rabbit2). Every
0.5 s the rounds ask each running node's own API, concurrently, with a short timeout, and read
for each queue the leaders their answers name, under the subject `rabbitmq@<queue>`:

- each node, not the first that answers: a node partitioned from its peers still answers the host
  (only its peers are cut off), with its own, stale view (itself leading) until pause_minority
  pauses it; the majority's new leader shows beside it as soon as the majority reports it, and a
  checker sees both (as two nodes claiming leadership, which they are);
- a node that does not answer in time (frozen, paused, its API stopped under pause_minority)
  says nothing; nobody answering, or no answer naming a leader, is `leaders: []`. In time is 5 s:
  while a node's peer is cut off, every node's API hangs until net_ticktime gives the peer up
  and then answers in 3-4 s for a while (measured here: the majority named its new leader 15 s
  after the cut in answers that took 3.1-3.3 s; a 1 s timeout saw it only 19.5 s after the cut);
  a slow answer lands in the round that sees it arrive, stamped then;
- the HTTP API only, one request per node and round: `rabbitmqctl` starts an Erlang VM per call
  and heavy polling slows the cluster on two cores (field notes).

The rounds get the stack as the sampler has it (`drills.stack.topology.StackView`, which this
package cannot import: read by duck typing) until RabbitMQ's adapter opens them on a `Live`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent import futures
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

from drills.components._rabbitmq_api import Management, node_service
from drills.components._rabbitmq_spec import RabbitmqSpec
from drills.components.base import Node, Reading

GROUP = "rabbitmq"
PREFIX = GROUP + "@"  # the subject of a queue's leader samples (drills.checkers.failover.sampled_as)
LOCALHOST = "127.0.0.1"


class QueueLike(Protocol):
    """A queue as a node's API lists it (drills.components._rabbitmq_api.Queue is one)."""

    @property
    def name(self) -> str: ...
    @property
    def leader(self) -> str | None: ...


class QueueSource(Protocol):
    """One node's management API (drills.components._rabbitmq_api.Management of one endpoint)."""

    def queues(self, *, timeout_s: float) -> Sequence[QueueLike]: ...


def node_apis(stack: Any, snap: Mapping[str, Node]) -> dict[str, Management]:
    """Each running RabbitMQ member's own management API (service -> a client of that node alone:
    its answer, not the first node's that does), from the stack file's management port and user
    (its password: the stack's app password)."""
    rabbit = stack.definition.component("rabbitmq", RabbitmqSpec)
    port = rabbit.management_port
    return {name: Management([(LOCALHOST, snap[name].ports[port])], stack.settings.secrets.app_password, rabbit.user)
            for name in stack.settings.roles.members(GROUP, snap)
            if name in snap and snap[name].state == "running" and port in snap[name].ports}


def queue_of_subject(subject: str) -> str | None:
    """`rabbitmq@drill-events` -> drill-events; None for anything else."""
    if not subject.startswith(PREFIX):
        return None
    return subject.removeprefix(PREFIX) or None


def node_views(answers: Mapping[str, Sequence[QueueLike] | None], queue: str) -> dict[str, str | None]:
    """For each node that answered, the service it names as the queue's leader (None: no leader
    reported, or the queue is not declared there)."""
    views: dict[str, str | None] = {}
    for node, queues in answers.items():
        if queues is None:
            continue
        found = next((q for q in queues if q.name == queue), None)
        views[node] = node_service(found.leader) if found is not None and found.leader else None
    return views


def reading(answers: Mapping[str, Sequence[QueueLike] | None], queue: str) -> Reading:
    """The leaders the answering nodes name for `queue` (every one named), and who said what."""
    views = node_views(answers, queue)
    return Reading(sorted({v for v in views.values() if v is not None}),
                   {"asked": sorted(answers), "views": dict(sorted(views.items()))})


class QueueLeaderRounds:
    """The leaders of RabbitMQ queues (each as subject `rabbitmq@<queue>`), every 0.5 s.

    At most one request per node is in flight: a round asks each node that is not still answering
    the last one, takes the answers that come within `round_wait_s`, and lets slower ones land in
    a later round. A node still answering keeps its last answer for up to `timeout_s` from when
    it was asked; past that, or when its request fails, it says nothing. So one hanging node
    neither holds back the others' answers nor speaks for longer than the timeout."""

    def __init__(self, stack: Any, queues: Sequence[str], *, every_s: float = 0.5, timeout_s: float = 5.0,
                 round_wait_s: float = 1.0,
                 apis: Callable[[Mapping[str, Node]], Mapping[str, QueueSource]] | None = None) -> None:
        self.stack, self.queues, self.every_s = stack, tuple(queues), every_s
        self.timeout_s, self.round_wait_s = timeout_s, round_wait_s
        # Each running node's own API, from the stack's endpoints and credentials (as readiness).
        self.apis = apis or (lambda snap: node_apis(stack, snap))
        self._snap: Mapping[str, Node] = {}
        self._pool = ThreadPoolExecutor(max_workers=8)
        self._asking: dict[str, tuple[Future[Sequence[QueueLike] | None], float]] = {}
        self._answered: dict[str, Sequence[QueueLike] | None] = {}

    def ask(self, api: QueueSource) -> Sequence[QueueLike] | None:
        try:
            return api.queues(timeout_s=self.timeout_s)
        except OSError:
            return None  # frozen, paused, cut off from the host, refusing: it says nothing
        except (TypeError, KeyError, ValueError):
            return None  # an answer that is not a queue listing (a node half up) says nothing either

    def answers(self, apis: Mapping[str, QueueSource]) -> dict[str, Sequence[QueueLike] | None]:
        """This round's answer of each node (None: it says nothing)."""
        now = time.monotonic()
        for node, api in apis.items():
            if node not in self._asking:
                self._asking[node] = (self._pool.submit(self.ask, api), now)
        futures.wait([f for node, (f, _) in self._asking.items() if node in apis], timeout=self.round_wait_s)
        answers: dict[str, Sequence[QueueLike] | None] = {}
        for node in apis:
            future, asked_at = self._asking[node]
            if future.done():
                del self._asking[node]
                self._answered[node] = answers[node] = future.result()
            else:
                answers[node] = self._answered.get(node) if time.monotonic() - asked_at < self.timeout_s else None
        for node in set(self._asking) - set(apis):  # no longer running: its answer, if any, is dropped
            self._asking.pop(node)
            self._answered.pop(node, None)
        return answers

    def read(self) -> Mapping[str, Reading]:
        # Containers come and go (a paused node is not running): look again every round; when the
        # engine is slow to answer, keep the last snapshot.
        with contextlib.suppress(Exception):
            self._snap = self.stack.snapshot()
        answers = self.answers(dict(self.apis(self._snap)))
        return {PREFIX + q: reading(answers, q) for q in self.queues}

    def close(self) -> None:
        self._pool.shutdown(wait=False)


def open_rounds(stack: Any, subjects: Collection[str]) -> QueueLeaderRounds:
    """The rounds of the queues `subjects` name (`rabbitmq@<queue>` each)."""
    return QueueLeaderRounds(stack, sorted(q for q in (queue_of_subject(s) for s in subjects) if q is not None))
