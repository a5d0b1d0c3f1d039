"""The order a role's index counts in: `postgres.replica[0]` is the first replica by service name
(pg2 < pg10). Which services a role names is the stack's role map (`drills.stack.definition.RoleMap`,
from its stack file and labels); the role grammar is `drills.core.roles`; who leads now is asked of the
live system (`drills.stack.topology`). Pure.
"""

from __future__ import annotations

from collections.abc import Iterable

from drills.core.roles import RoleRef
from drills.stack.definition import order


def pick(ref: RoleRef, selected: Iterable[str]) -> list[str]:
    """Apply the index, if any, to an already selected list of services."""
    ordered = order(selected)
    if ref.index is None:
        return ordered
    return [ordered[ref.index]] if ref.index < len(ordered) else []
