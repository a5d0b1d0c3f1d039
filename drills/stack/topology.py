"""Who is who right now: role names (see `drills.core.roles`) -> services of a live stack.

Static roles come from the compose services; leaders and primaries are asked of the systems
themselves at the moment of the call, by the component's adapter (`Adapter.roles`) or, for the
kinds whose adapters have not moved in yet, by their legacy resolvers
(`drills.components.registry.LEGACY_ROLES`, reading the stack through `Legacy`). No component is
named here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from drills.components import registry
from drills.components._legacy_stack import addressed, endpoints
from drills.core.dockerlabels import TIER_LABEL
from drills.core.errors import StackError
from drills.core.roles import CLIENTS, RoleRef, parse_role
from drills.stack.definition import StackDefinition
from drills.stack.env import StackSettings
from drills.stack.live import as_logged_in
from drills.stack.roles import pick
from drills.stack.services import ServiceInfo

if TYPE_CHECKING:
    from drills.components.base import Credential, Live

__all__ = ["Legacy", "StackView", "addressed", "endpoints", "members", "resolve"]


class StackView(Protocol):
    """What probes need of a stack (implemented by `ComposeProject`)."""

    @property
    def settings(self) -> StackSettings: ...

    @property
    def definition(self) -> StackDefinition: ...

    def snapshot(self) -> dict[str, ServiceInfo]: ...

    def credential(self, ref: Credential) -> str:
        """A password the stack file names, resolved (drills.stack.credentials)."""
    def host_names(self, snap: Mapping[str, ServiceInfo]) -> Mapping[str, tuple[str, ...]]:
        """service -> the names its running container answers to beyond what the snapshot shows
        (its hostname, read by inspect): asked only when a member is matched by nothing else."""
        ...


def members(view: StackView, snap: Mapping[str, ServiceInfo], component: str) -> list[str]:
    """The services of a role (a component, or any role of the stack's map) that have a container."""
    return view.settings.roles.members(component, snap)


def _dynamic(view: StackView, snap: Mapping[str, ServiceInfo], ref: RoleRef, group: list[str]) -> list[str]:
    """Who has a dynamic role now: asked of the component's adapter (`Adapter.roles`), else of its
    kind's legacy resolver (`drills.components.registry.LEGACY_ROLES`)."""
    bound = registry.of_group(view.definition.bound(), ref.group)
    if bound is not None:
        if bound.adapter.roles is None:
            raise StackError(f"{ref}: {bound.adapter.label} has no dynamic roles")
        return bound.adapter.roles.resolve(bound.spec, as_logged_in(view, snap), ref.base_selector, None, group)
    legacy = registry.LEGACY_ROLES.get(ref.group)
    if legacy is None:
        raise StackError(f"{ref}: no dynamic roles for {ref.group}")
    return legacy(Legacy(view), snap, ref, group)


def resolve(view: StackView, role: str | RoleRef) -> list[str]:
    """The services that have `role` now (possibly none); StackError when the system cannot say."""
    ref = role if isinstance(role, RoleRef) else parse_role(role)
    snap = view.snapshot()
    if ref.group == CLIENTS:
        return pick(ref, [s.service for s in snap.values() if s.labels.get(TIER_LABEL) == "app"])
    group = members(view, snap, ref.group)
    if not ref.dynamic or not group:
        return pick(ref, group)
    try:
        return pick(ref, _dynamic(view, snap, ref, group))
    except OSError as exc:
        raise StackError(f"cannot resolve {ref}: {exc}") from exc


class Legacy:
    """A view of the stack as the reads of the kinds whose adapters have not moved in yet take it
    (`drills.components._legacy_stack.LegacyStack`): the view's own, a role's services, and the
    stack as an adapter sees it."""

    def __init__(self, view: StackView) -> None:
        self.view = view

    @property
    def settings(self) -> StackSettings:
        return self.view.settings

    @property
    def definition(self) -> StackDefinition:
        return self.view.definition

    def snapshot(self) -> dict[str, ServiceInfo]:
        return self.view.snapshot()

    def members(self, snap: Mapping[str, ServiceInfo], group: str) -> list[str]:
        return members(self.view, snap, group)

    def defined(self, group: str) -> tuple[str, ...]:
        return tuple(self.view.settings.roles.roles.get(group, ()))

    def live(self, snap: Mapping[str, ServiceInfo]) -> Live:
        return as_logged_in(self.view, snap)

    def credential(self, ref: Credential) -> str:
        return self.view.credential(ref)

    def host_names(self, snap: Mapping[str, ServiceInfo]) -> Mapping[str, tuple[str, ...]]:
        return self.view.host_names(snap)
