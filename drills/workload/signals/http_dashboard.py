"""http.dashboard: `GET /health` of the dashboards through the load balancer, a new visitor each
time (`drills.workload.http.HealthProbe`)."""

from __future__ import annotations

from drills.workload.signal import Driven, OpRecord, SignalContext, SignalKind, SignalSpec

NAME = "http.dashboard"


def build(spec: SignalSpec, context: SignalContext) -> Driven:
    from drills.workload.http import HealthProbe, balancer

    target = balancer(context.published, context.definition.spec.components.http, NAME,
                      context.definition.path)
    return Driven(context.paced(NAME, spec, lambda _process: HealthProbe(target)))


KIND = SignalKind(
    name=NAME, model=SignalSpec, build=build,
    records=(OpRecord(NAME, "probe", "the op's seq"),),
    final_read=None,
    description="GET /health through the load balancer, without cookies.")
