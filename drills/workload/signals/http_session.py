"""http.session: a user logged in once, whose in-memory session must keep answering `/whoami`
through the load balancer (`drills.workload.http.SessionProbe`)."""

from __future__ import annotations

from drills.workload.signal import Driven, OpRecord, SignalContext, SignalKind, SignalSpec

NAME = "http.session"


def build(spec: SignalSpec, context: SignalContext) -> Driven:
    from drills.workload.http import SessionProbe, balancer

    target = balancer(context.published, context.definition.spec.components.http, NAME,
                      context.definition.path)
    return Driven(context.paced(NAME, spec, lambda _process: SessionProbe(target)))


KIND = SignalKind(
    name=NAME, model=SignalSpec, build=build,
    records=(OpRecord(NAME, "session", "the dashboard instance holding the session (the op's seq when it does "
                                       "not say); error `session lost` when it is gone"),),
    final_read=None,
    description="Log in once, then GET /whoami with the same session cookie through the load balancer.")
