"""What the topology, status, readiness and effective-configuration reads of the kinds whose
adapters have not moved in yet (PostgreSQL under Patroni, RabbitMQ, MongoDB, HAProxy) use of a
running stack: `LegacyStack`, a structural Protocol that `drills.stack.topology.Legacy` implements
over a view of the stack, so that those reads live here (one private module per kind) without this
layer importing `drills.stack` (plans/components-protocol.md, B2, C-P2, C-R2, C-M2, C-H1). Each
kind's lane moves its reads into its adapter, on a `Live`.

The stack file's entries are read as the stack layer models them (`StackDefinition.component(key,
model)`: the entry, else its defaults), as the specs of `drills.components._stack_specs`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from drills.components._members import Addressed
from drills.components._stack_view import LOCALHOST, Described

if TYPE_CHECKING:
    from drills.components.base import Endpoint, Live, Node

TIMEOUT_S = 3.0  # each effective-configuration read is short: a system that does not answer in it is a part not read


class LegacyStack(Described, Protocol):
    """What the legacy kinds' reads use of a running stack."""

    def members(self, snap: Mapping[str, Any], group: str) -> list[str]:
        """The services of a role group that have a container in `snap`."""
        ...
    def defined(self, group: str) -> tuple[str, ...]:
        """The services of a role as the role map says (those without a container too)."""
        ...
    def live(self, snap: Mapping[str, Any]) -> Live:
        """The stack as an adapter sees it, able to log in."""
        ...
    def host_names(self, snap: Mapping[str, Any]) -> Mapping[str, tuple[str, ...]]:
        """service -> the names its running container answers to beyond what the snapshot shows."""
        ...


def endpoints(snap: Mapping[str, Node], services: Sequence[str], port: int) -> dict[str, Endpoint]:
    """service -> (127.0.0.1, published port) for the running ones that publish `port`."""
    found = {}
    for name in services:
        info = snap.get(name)
        if info is not None and info.state == "running" and port in info.ports:
            found[name] = (LOCALHOST, info.ports[port])
    return found


def service_by_ip(snap: Mapping[str, Node]) -> dict[str, str]:
    return {s.ip: s.service for s in snap.values() if s.ip}


def addressed(snap: Mapping[str, Any], more: Mapping[str, tuple[str, ...]] | None = None) -> list[Addressed]:
    """Each service's container as the stack network knows it: address, aliases, and `more` names."""
    more = more or {}
    return [Addressed(s.service, s.ip, (*s.aliases, *more.get(s.service, ()))) for s in snap.values()]
