"""Which services a role's group names on the reference stack (`docker-compose.ha.yml`), and
the order a role's index counts in. The role grammar itself is `drills.roles`; who leads now is
asked of the live system (`drills.stack.topology`). Pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from drills.roles import RoleRef

# component -> the stem of its services' names in docker-compose.ha.yml
COMPONENTS: dict[str, str] = {"postgres": "pg", "etcd": "etcd", "rabbitmq": "rabbit", "mongo": "mongo"}


def _order(name: str) -> tuple[str, int]:
    """pg2 < pg10: by stem, then by number."""
    stem = name.rstrip("0123456789")
    digits = name[len(stem):]
    return stem, int(digits) if digits else -1


def group_members(group: str, services: Iterable[str]) -> list[str]:
    """Services of a group: a component's nodes, one named service, or every `<stem><n>`."""
    names = set(services)
    stem = COMPONENTS.get(group)
    if stem is None and group in names:
        return [group]
    stem = stem or group
    pattern = re.compile(rf"^{re.escape(stem)}\d+$")
    return sorted((n for n in names if pattern.match(n)), key=_order)


def pick(ref: RoleRef, selected: Iterable[str]) -> list[str]:
    """Apply the index, if any, to an already selected list of services."""
    ordered = sorted(set(selected), key=_order)
    if ref.index is None:
        return ordered
    return [ordered[ref.index]] if ref.index < len(ordered) else []
