"""e2e.notify: scheduled test runs keep producing mail at the SMTP sink (`drills.workload.e2e`)."""

from __future__ import annotations

from drills.core.errors import HarnessError
from drills.workload.signal import Driven, OpRecord, SignalContext, SignalKind, SignalSpec

NAME = "e2e.notify"


def build(spec: SignalSpec, context: SignalContext) -> Driven:
    from drills.workload.e2e import SINK_HTTP_PORT, SINK_SERVICE, NotificationWatch, SinkTarget

    sink = context.published(SINK_SERVICE, SINK_HTTP_PORT)
    if sink is None:
        raise HarnessError(f"{NAME}: no `{SINK_SERVICE}` service publishing port {SINK_HTTP_PORT} in this stack "
                           "(the app tier is not there yet)")
    target = SinkTarget(f"http://{sink[0]}:{sink[1]}/messages")
    return Driven(context.paced(NAME, spec, lambda _process: NotificationWatch(target)))


KIND = SignalKind(
    name=NAME, model=SignalSpec, build=build,
    records=(OpRecord(NAME, "probe", "the op's seq; ok while mail keeps arriving at the sink"),),
    final_read=None,
    roles=("rabbitmq", "smtp-sink"),
    description="The SMTP sink's message count keeps growing (scheduler -> RabbitMQ -> workers -> MongoDB -> "
                "mailer -> SMTP).")
