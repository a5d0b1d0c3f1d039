"""rabbitmq.publish: persistent messages with publisher confirms to the stack's queue (its stack
file's `components.rabbitmq.signal_queue`, only checked passively) or, without one, to Drills' own
quorum queue `drill-events`; and its consumer (rabbitmq.consume, manual acks) alongside
(`drills.workload.rabbitmq`). No final read: the drain consumes what is left, and the queue checker
compares confirmed with consumed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from drills.components._stack_specs import RabbitmqSpec
from drills.core.errors import ScenarioError
from drills.workload.signal import Driven, OpRecord, SignalContext, SignalKind, SignalSpec

if TYPE_CHECKING:
    from drills.workload.rabbitmq import RabbitTarget

NAME = "rabbitmq.publish"
CONSUME = "rabbitmq.consume"

# A publish starts on every slot of the grid (drills.workload.rabbitmq_pipelined) instead of one at
# a time, waiting for each confirm (drills.workload.rabbitmq.Publisher): while the broker does not
# confirm, the synchronous one starts nothing for 5 s and an outage's end is known to within 5 s.
# Not in the scenario schema: a choice of the harness.
PIPELINED = True


def target(context: SignalContext) -> RabbitTarget:
    """The stack's nodes, its stack file's user, and the queue: the stack's `signal_queue`, else
    Drills' own."""
    from drills.workload.rabbitmq import QUEUE, RabbitTarget

    rabbit = context.definition.component("rabbitmq", RabbitmqSpec)
    return RabbitTarget(context.endpoints("rabbitmq", rabbit.amqp_port), context.password, context.run,
                        user=rabbit.user, queue=rabbit.signal_queue or QUEUE,
                        stack_queue=rabbit.signal_queue is not None)


def checked_target(context: SignalContext) -> RabbitTarget:
    """`target`, once the broker has said that the stack's queue is there: one the stack file names
    and the stack lacks is the stack file's mistake (ScenarioError, exit 2), found before the drill
    starts. Drills' own queue needs no check: it declares it."""
    from drills.workload.rabbitmq import missing_queue

    found = target(context)
    missing = missing_queue(found) if found.stack_queue else None
    if missing is not None:
        raise ScenarioError(
            f"{NAME}: the queue {found.queue!r} that the stack file {context.definition.path} names "
            f"(components.rabbitmq.signal_queue) is not on the broker: {missing}",
            hint="the stack's application must declare it (Drills only checks it, passively, and never declares it); "
                 "or leave signal_queue unset for Drills' own queue drill-events")
    return found


def build(spec: SignalSpec, context: SignalContext) -> Driven:
    from drills.workload.rabbitmq import RabbitSignal

    rabbit = RabbitSignal(checked_target(context), context.sink, context.clock)

    def drain() -> bool:
        return rabbit.drain().emptied

    if not PIPELINED:
        return Driven(context.paced(NAME, spec, rabbit.client), drain=drain, before_start=rabbit.consumer.start,
                      close=rabbit.close)
    from drills.workload.rabbitmq_pipelined import PipelinedPublisher

    publisher = PipelinedPublisher(rabbit.target, rabbit.setup, context.sink, context.clock, rate=spec.rate,
                                   processes=spec.clients, signal=NAME)

    def close() -> None:
        publisher.close()  # before the consumer stops
        rabbit.close()

    return Driven(publisher, drain=drain, before_start=rabbit.consumer.start, close=close)


KIND = SignalKind(
    name=NAME, model=SignalSpec, build=build,
    records=(OpRecord(NAME, "publish", "the message's seq (its message id), unique in the drill"),
             OpRecord(CONSUME, "consume", "the seq of a message consumed (before its ack), or none for a "
                                          "consumer outage")),
    final_read=None,
    description="Persistent messages with publisher confirms and mandatory to the stack's signal_queue (checked "
                "passively, never declared or purged) or Drills' own quorum queue drill-events; a consumer with manual "
                "acks alongside (rabbitmq.consume).")
