"""When the stack is ready: one wait per component, run side by side.

"Ready" is what a drill's steady state needs, stronger than Docker's healthchecks: each component's
own bar (its adapter's `ready`; for the kinds whose adapters have not moved in yet, the rules of
`drills.components._legacy_ready`), plus Docker's own health for every container that has a
healthcheck. Probes are HTTP calls and SQL queries on published ports, polled every 0.5-1 s: cheap
enough not to slow the boot they watch (two cores, ten containers).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from drills.components import _legacy_ready as legacy
from drills.components.base import Bound, Live
from drills.core.wait import Observation, Wait, run_all
from drills.stack.live import as_logged_in
from drills.stack.services import ServiceInfo
from drills.stack.topology import Legacy, StackView, members

ONE_SHOT = legacy.ONE_SHOT  # services that run to completion (exit 0 = success)


def containers_healthy(snap: Mapping[str, ServiceInfo], *, boot: bool = False) -> Observation:
    """`boot`: the stack was just started, every container of it: one that has exited since (a
    service's own restart policy shows it as restarting, not exited) will not be started again by
    anyone, so the wait ends there rather than at its timeout (a crashed node, a secret it could
    not read)."""
    waiting, gone = [], []
    for s in snap.values():
        if s.service in ONE_SHOT:
            if s.state == "exited" and s.exit_code not in (0, None):
                waiting.append(f"{s.service} exited {s.exit_code}")
                gone.append(s.service)
            continue
        if s.state != "running":
            code = f" {s.exit_code}" if s.state == "exited" and s.exit_code is not None else ""
            waiting.append(f"{s.service} {s.state}{code}")
            if s.state in ("exited", "dead"):
                gone.append(s.service)
        elif s.health not in (None, "healthy"):
            waiting.append(f"{s.service} {s.health}")
    if not snap:  # nothing found is never healthy
        return Observation(False, "no container of the stack exists")
    if waiting:
        said = "waiting for " + ", ".join(waiting)
        if boot and gone:
            return Observation(False, f"{said}; nothing restarts {', '.join(gone)} (`drill stack logs` says why it "
                                      "stopped)", hopeless=True)
        return Observation(False, said)
    return Observation(True, f"all {len(snap)} containers healthy")


def ready_waits(view: StackView, timeout_s: float = 120.0, *, boot: bool = False,
                queues: Sequence[str] | None = None) -> list[Wait]:
    """`boot`: the stack was just created (stricter about what a component may still be missing,
    as RabbitMQ's queue members). `queues`: the queues the stack's application declares (default:
    its stack file's)."""
    snap = view.snapshot()
    # One wait per component the stack has: a stack without RabbitMQ (PostgreSQL only) is ready
    # without it. Membership comes from the role map, so a component whose services all failed to
    # start is still waited for (and reported), never skipped.
    defined = view.settings.roles.roles
    waits = [Wait("containers healthy", lambda: containers_healthy(view.snapshot(), boot=boot), timeout_s, 1.0)]
    stack = Legacy(view)
    for kind, rule in legacy.READY.items():
        if members(view, snap, kind) or (rule.when_defined and defined.get(kind)):
            waits.append(Wait(kind, rule.check(stack, boot, queues), timeout_s, rule.every_s))
    for key, bound in view.definition.bound().items():
        if bound.adapter.kind not in legacy.READY and bound.adapter.ready is not None:
            waits.append(Wait(key, _adapter_ready(view, bound, bound.adapter.ready, boot), timeout_s,
                              bound.adapter.ready_every_s))
    return waits


def _adapter_ready(view: StackView, bound: Bound[Any], ready: Callable[[Any, Live, bool], Observation],
                   boot: bool) -> Callable[[], Observation]:
    return lambda: ready(bound.spec, as_logged_in(view), boot)


def wait_ready(view: StackView, *, since: float | None = None, timeout_s: float = 120.0,
               boot: bool = False) -> dict[str, float]:
    """Seconds from `since` (default now) until each component was ready; WaitTimeout otherwise."""
    return run_all(ready_waits(view, timeout_s, boot=boot), since=since if since is not None else time.monotonic())
