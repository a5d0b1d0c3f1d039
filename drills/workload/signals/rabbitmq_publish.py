"""rabbitmq.publish: persistent messages to the quorum queue `drill-events` with publisher confirms,
and its consumer (rabbitmq.consume, manual acks) alongside (`drills.workload.rabbitmq`). No final
read: the drain consumes what is left, and the queue checker compares confirmed with consumed."""

from __future__ import annotations

from drills.workload.signal import Driven, OpRecord, SignalContext, SignalKind, SignalSpec

NAME = "rabbitmq.publish"
CONSUME = "rabbitmq.consume"

# A publish starts on every slot of the grid (drills.workload.rabbitmq_pipelined) instead of one at
# a time, waiting for each confirm (drills.workload.rabbitmq.Publisher): while the broker does not
# confirm, the synchronous one starts nothing for 5 s and an outage's end is known to within 5 s.
# Not in the scenario schema: a choice of the harness.
PIPELINED = True


def build(spec: SignalSpec, context: SignalContext) -> Driven:
    from drills.stack.rabbitmq import AMQP_PORT
    from drills.workload.rabbitmq import RabbitSignal, RabbitTarget

    rabbit = RabbitSignal(RabbitTarget(context.endpoints("rabbitmq", AMQP_PORT), context.password, context.run),
                          context.sink, context.clock)

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
    description="Persistent messages to the quorum queue drill-events with publisher confirms and mandatory; a "
                "consumer with manual acks alongside (rabbitmq.consume).")
