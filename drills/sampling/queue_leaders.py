"""Who leads a RabbitMQ quorum queue, sampled through the drill: the evidence of a failover
(drills.checkers.failover) for a fault on `rabbitmq.leader@<queue>`.

A RabbitMQ cluster has no leader of its own; each quorum queue has one (its Raft leader), and
the management API names it (`leader`, a node name: rabbit@rabbit2 is the service rabbit2). Every
0.5 s the sampler asks each running node's own API, concurrently, with a short timeout, and records
for each queue the leaders their answers name, under the component `rabbitmq@<queue>`:

- each node, not the first that answers: a node partitioned from its peers still answers the host
  (only its peers are cut off), with its own, stale view (itself leading) until pause_minority
  pauses it; the majority's new leader shows beside it as soon as the majority reports it, and a
  checker sees both (as two nodes claiming leadership, which they are);
- a node that does not answer in time (frozen, paused, its API stopped under pause_minority)
  says nothing; nobody answering, or no answer naming a leader, is `leaders: []`;
- the HTTP API only, one request per node and round: `rabbitmqctl` starts an Erlang VM per call
  and heavy polling slows the cluster on two cores (field notes).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Protocol

from drills.sampling.base import Reading, Sampler
from drills.stack import topology
from drills.stack.rabbitmq import Queue, node_service

if TYPE_CHECKING:
    from drills.history import Event
    from drills.stack.services import ServiceInfo

StackView = topology.StackView
PREFIX = "rabbitmq@"  # the component key of a queue's leader samples (drills.checkers.failover.sampled_as)


class QueueSource(Protocol):
    """One node's management API (drills.stack.rabbitmq.Management)."""

    def queues(self, *, timeout_s: float) -> list[Queue]: ...


def queue_of_subject(component: str) -> str | None:
    """`rabbitmq@drill-events` -> drill-events; None for anything else."""
    if not component.startswith(PREFIX):
        return None
    return component.removeprefix(PREFIX) or None


def node_views(answers: Mapping[str, Sequence[Queue] | None], queue: str) -> dict[str, str | None]:
    """For each node that answered, the service it names as the queue's leader (None: no leader
    reported, or the queue is not declared there)."""
    views: dict[str, str | None] = {}
    for node, queues in answers.items():
        if queues is None:
            continue
        found = next((q for q in queues if q.name == queue), None)
        views[node] = node_service(found.leader) if found is not None and found.leader else None
    return views


def reading(answers: Mapping[str, Sequence[Queue] | None], queue: str) -> Reading:
    """The leaders the answering nodes name for `queue` (every one named), and who said what."""
    views = node_views(answers, queue)
    return Reading(sorted({v for v in views.values() if v is not None}),
                   {"asked": sorted(answers), "views": dict(sorted(views.items()))})


class QueueLeaderSampler(Sampler):
    """The leaders of RabbitMQ queues (each as component `rabbitmq@<queue>`), every 0.5 s."""

    name = "queue-leader-sampler"

    def __init__(self, stack: StackView, record: Callable[..., Event], now: Callable[[], float], *,
                 queues: Sequence[str], every_s: float = 0.5, timeout_s: float = 1.0,
                 apis: Callable[[Mapping[str, ServiceInfo]], Mapping[str, QueueSource]] | None = None) -> None:
        super().__init__(record, now, every_s=every_s)
        self.stack, self.queues, self.timeout_s = stack, tuple(queues), timeout_s
        # Each running node's own API, from the stack's endpoints and credentials (as readiness).
        self.apis = apis or (lambda snap: topology.node_managements(stack, snap))
        self._snap: Mapping[str, ServiceInfo] = {}
        self._pool = ThreadPoolExecutor(max_workers=4)

    def ask(self, api: QueueSource) -> list[Queue] | None:
        try:
            return api.queues(timeout_s=self.timeout_s)
        except OSError:
            return None  # frozen, paused, cut off from the host, refusing: it says nothing
        except (TypeError, KeyError, ValueError):
            return None  # an answer that is not a queue listing (a node half up) says nothing either

    def read(self) -> dict[str, Reading]:
        # Containers come and go (a paused node is not running): look again every round; when the
        # engine is slow to answer, keep the last snapshot.
        with contextlib.suppress(Exception):
            self._snap = self.stack.snapshot()
        apis = dict(self.apis(self._snap))
        answers = dict(zip(apis, self._pool.map(self.ask, apis.values()), strict=True))
        return {PREFIX + q: reading(answers, q) for q in self.queues}

    def close(self) -> None:
        super().close()
        self._pool.shutdown(wait=False)
