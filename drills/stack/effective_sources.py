"""Where the effective configuration is read from: one reader per part, each of its kind's (the
registry's legacy effective table, `drills.components.registry.LEGACY_EFFECTIVE`; a kind whose
component has its adapter in `drills.components` is read by that adapter, through its kind's reader).
The readers see the stack as the other reads of those kinds do (`drills.stack.topology.Legacy`).

Every read is passive (GET requests, SELECTs, `cat` of a node's configuration files) and short (a
few seconds' timeout). Each reader returns a `Part`, never raises for a system that does not
answer, and says what it could not read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from drills.components import registry
from drills.components._legacy_stack import TIMEOUT_S
from drills.core.effective_config import Part
from drills.stack.definition import StackDefinition
from drills.stack.live import as_live, as_logged_in
from drills.stack.topology import Legacy

if TYPE_CHECKING:
    import docker

    from drills.components.base import Credential
    from drills.stack.env import StackSettings
    from drills.stack.services import ServiceInfo

__all__ = ["SOURCES", "TIMEOUT_S", "EffectiveStack", "Source"]


class EffectiveStack(Protocol):
    """What reading the effective configuration needs of a stack (implemented by `ComposeProject`)."""

    @property
    def settings(self) -> StackSettings: ...

    @property
    def client(self) -> docker.DockerClient: ...

    @property
    def definition(self) -> StackDefinition: ...

    def snapshot(self) -> dict[str, ServiceInfo]: ...

    def defined_services(self) -> tuple[str, ...]: ...

    def credential(self, ref: Credential) -> str: ...
    def host_names(self, snap: Mapping[str, ServiceInfo]) -> Mapping[str, tuple[str, ...]]: ...


@dataclass(frozen=True)
class Source:
    """How one part is read, and which of its services Compose defines (a part absent while its
    services are defined is not read, not absent: `drills.stack.effective`)."""

    entry: registry.LegacyEffective

    def read(self, stack: EffectiveStack, snap: Mapping[str, ServiceInfo], timeout_s: float) -> Part:
        if self.entry.read is None:
            raise KeyError(self.entry.part)  # every entry of the table reads its part
        # The stack as an adapter sees it, for a part its kind's reader hands over to that adapter.
        live = as_logged_in(stack, snap) if self.entry.logs_in else as_live(stack, snap)
        return self.entry.read(Legacy(stack), snap, timeout_s, live)

    def defined(self, stack: EffectiveStack, defined: Sequence[str]) -> list[str]:
        return self.entry.defined(Legacy(stack), defined) if self.entry.defined is not None else []


# By part name (drills.components.registry.EFFECTIVE_PARTS: the record's parts and their order).
SOURCES: dict[str, Source] = {e.part: Source(e) for e in registry.LEGACY_EFFECTIVE.values()}
