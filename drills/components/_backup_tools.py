"""What the backups and restores of the components share: what they use of a running stack
(`BackupLive`), its nodes and the ports the host reaches them on, and waiting for a new cluster.

`BackupLive` is the slice of a stack the legacy backup methods read (the stack file's entries and
the run's settings as `drills.stack` models them, structurally: `_stack_view`): `drills.backup.target.live_of`
checks that a `BackupStack` (a `ComposeProject`) is one. It goes with the legacy table when the
adapters declare their `BackupMethod`s on `components.base.Live` (docs/plans/components-protocol.md,
C-P3, C-R3, C-M3).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol, TypeVar

from drills.components._host_ports import variable
from drills.components._stack_view import LOCALHOST, Described, Reachable
from drills.components.base import Endpoint, Stack
from drills.core.errors import FaultError, StackError

if TYPE_CHECKING:
    from drills.components.base import Node

T = TypeVar("T")
Clock = Callable[[], float]


# ---- what the backups read of a stack --------------------------------------------------------------


class BackupLive(Stack, Described, Protocol):
    """What a backup or a restore uses of a running stack (`drills.stack.project.ComposeProject`)."""


# ---- nodes, ports, waits ------------------------------------------------------------------------------


def nodes_of(stack: BackupLive, component: str) -> list[str]:
    """A component's nodes as the Compose file names them: after a total failure no container is
    left to read them from, and a stack whose nodes are named otherwise must not get ours."""
    nodes = stack.settings.roles.members(component, stack.defined_services())
    if not nodes:
        raise FaultError(f"{stack.project} defines no {component} node in its Compose file",
                         hint="`drill stack status` lists the stack's services and their roles")
    return nodes


def published(stack: Reachable, service: str, port: int,
              snap: Mapping[str, Node] | None = None) -> Endpoint | None:
    """Where the host reaches `port` of `service`: the host port `drill stack up` picked for it,
    else what Docker published for the running container now, else None (the signals' clients
    reach it there too: `drills.workload.endpoints.published`)."""
    fixed = stack.settings.ports.get(variable(service, port))
    if fixed:
        return LOCALHOST, int(fixed)
    info = (snap if snap is not None else stack.snapshot()).get(service)
    if info is not None and port in info.ports:
        return LOCALHOST, info.ports[port]
    return None


def endpoint(stack: BackupLive, service: str, port: int) -> Endpoint:
    """Where the host reaches `port` of `service` (the port `drill stack up` fixed for it)."""
    found = published(stack, service, port)
    if found is None:
        raise FaultError(f"{service} of {stack.project} publishes no port {port}")
    return found


def group_endpoints(stack: Reachable, component: str, port: int) -> tuple[Endpoint, ...]:
    """Every node of `component` as the host reaches its `port`; StackError when none publishes it."""
    snap = stack.snapshot()
    found = [published(stack, s, port, snap) for s in stack.settings.roles.members(component, snap)]
    endpoints = tuple(e for e in found if e is not None)
    if not endpoints:
        raise StackError(f"no {component} node of {stack.settings.project} publishes port {port}")
    return endpoints


def poll(what: str, attempt: Callable[[], T | None], *, timeout_s: float, interval_s: float = 0.5) -> T:
    """Call `attempt` until it returns something (exceptions count as not yet) or time runs out."""
    deadline = time.monotonic() + timeout_s
    last = ""
    while True:
        try:
            found = attempt()
            if found is not None:
                return found
        except Exception as exc:
            last = f"{type(exc).__name__}: {exc}"
        if time.monotonic() > deadline:
            raise FaultError(f"gave up after {timeout_s:g} s waiting for {what}" + (f" ({last})" if last else ""))
        time.sleep(interval_s)

