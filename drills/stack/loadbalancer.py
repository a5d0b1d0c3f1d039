"""The load balancer's own view of the dashboards: HAProxy's stats, as CSV (`/lb-stats;csv`).

A dashboard can be healthy in Docker's eyes and still out of rotation (HAProxy marks a backend DOWN
after two failed checks and UP after two good ones), so `drill stack status` shows what users get:
which instances the balancer sends them to. A balancer whose adapter is in `drills.components`
(the stack file's `adapter:` says which) gives its own status line instead: one that keeps no
health state says so (`summary`) rather than listing backends UP.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from drills.components import registry
from drills.components._stack_specs import Backend, Balancer, HttpSpec, parse_stats, read_stats
from drills.components.base import Live
from drills.stack.services import ServiceInfo

__all__ = ["Backend", "LoadBalancerStatus", "adapter_status", "parse_stats", "read_status"]


@dataclass(frozen=True)
class LoadBalancerStatus:
    backends: tuple[Backend, ...] = ()
    error: str | None = None
    summary: str | None = None  # the adapter's own line, where it lists no backends' state
    detail: Mapping[str, Any] = field(default_factory=dict)  # what that adapter says beside it (--json)

    def up(self) -> list[str]:
        return [b.server for b in self.backends if b.up]


def read_status(snap: Mapping[str, ServiceInfo], http: Balancer | None, timeout_s: float = 2.0,
                live: Live | None = None) -> LoadBalancerStatus:
    """What the stack's balancer (its stack file's `components: http:`) says of its backend. `live`:
    the stack, for a balancer whose adapter reads it (`drills.stack.live.as_live`)."""
    if http is None:
        return LoadBalancerStatus(error="the stack has no balancer (no http component in its stack file)")
    if not isinstance(http, HttpSpec):
        return adapter_status(http, live)
    try:
        return LoadBalancerStatus(read_stats(snap, http, timeout_s))
    except OSError as exc:  # not running, or its stats page did not answer (where it was asked)
        return LoadBalancerStatus(error=str(exc))


def adapter_status(http: Balancer, live: Live | None) -> LoadBalancerStatus:
    """The status line of a balancer whose adapter is in `drills.components`."""
    adapter = registry.adapter_of(http.adapter)
    if adapter.status is None or live is None:
        why = "its adapter reads no status" if adapter.status is None else "no stack to read it from"
        return LoadBalancerStatus(error=f"{http.balancer} ({adapter.label}): {why}")
    view = adapter.status(http, live)
    return LoadBalancerStatus(error=view.error and f"{view.title}: {view.error}", summary=view.title,
                              detail=dict(view.data))
