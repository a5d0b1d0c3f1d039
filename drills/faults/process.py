"""Process faults: kill (SIGKILL), stop, pause (a GC-like freeze), restart."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from drills.faults import ledger
from drills.faults.base import FaultTarget, apply, targets

if TYPE_CHECKING:
    from docker.models.containers import Container


def _each(containers: list[Container], method: str, **kwargs: Any) -> Callable[[], None]:
    def do() -> None:
        for c in containers:
            getattr(c, method)(**kwargs)

    return do


def kill(stack: FaultTarget, params: dict[str, Any], fault_id: str) -> ledger.Entry:
    found = targets(stack, params["target"])
    heal = [{"action": "start", "container": c.name} for c in found]
    return apply(stack, "kill", fault_id, heal, _each(found, "kill"))


def stop(stack: FaultTarget, params: dict[str, Any], fault_id: str) -> ledger.Entry:
    found = targets(stack, params["target"])
    heal = [{"action": "start", "container": c.name} for c in found]
    timeout = int(params.get("timeout_s", 10))
    return apply(stack, "stop", fault_id, heal, _each(found, "stop", timeout=timeout))


def pause(stack: FaultTarget, params: dict[str, Any], fault_id: str) -> ledger.Entry:
    found = targets(stack, params["target"])
    heal = [{"action": "unpause", "container": c.name} for c in found]
    return apply(stack, "pause", fault_id, heal, _each(found, "pause"))


def restart(stack: FaultTarget, params: dict[str, Any], fault_id: str) -> ledger.Entry:
    """Restart services (the policy's "restart all services"): nothing to heal but a stopped one."""
    found = targets(stack, params["target"])
    heal = [{"action": "start", "container": c.name} for c in found]
    return apply(stack, "restart", fault_id, heal, _each(found, "restart", timeout=5))
