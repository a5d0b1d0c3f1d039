"""Role names: how scenarios and faults name the containers they act on.

    role      := group [ "." selector ] [ "[" index "]" ]
    group     := postgres | etcd | rabbitmq | mongo     (the data tier's components)
               | clients                               (every app-tier container)
               | a service name (pg2, lb)              (that one service)
               | a service-name stem (dashboard)       (dashboard1, dashboard2, ...)
    selector  := "*"                                   (all of the group; the default)
               | postgres: leader | replica
               | mongo: primary | secondary
               | rabbitmq: leader | follower           (of the queue `scheduled-runs`; another queue
                                                        as leader@notifications, follower@notifications)
    index     := 0-based position in the selection, ordered by service name

Examples: `postgres.leader`, `postgres.replica[0]`, `rabbitmq.*`, `rabbitmq.leader@notifications`,
`mongo.primary`, `dashboard[1]`, `clients`. Leaders and primaries are resolved from the live system
each time (`drills.stack.topology`); this module is pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from drills.errors import StackError

# component -> the stem of its services' names in docker-compose.ha.yml
COMPONENTS: dict[str, str] = {"postgres": "pg", "etcd": "etcd", "rabbitmq": "rabbit", "mongo": "mongo"}
DYNAMIC: dict[str, frozenset[str]] = {
    "postgres": frozenset({"leader", "replica"}),
    "mongo": frozenset({"primary", "secondary"}),
    "rabbitmq": frozenset({"leader", "follower"}),
}
DEFAULT_QUEUE = "scheduled-runs"
CLIENTS = "clients"

# ASCII digits only: `\d` also takes Arabic-Indic and other Unicode digits, which int() reads.
_ROLE = re.compile(r"^(?P<group>[a-z][a-z0-9_-]*)(?:\.(?P<selector>\*|[a-z]+(?:@[A-Za-z0-9_.-]+)?))?"
                   r"(?:\[(?P<index>[0-9]+)\])?$")


@dataclass(frozen=True)
class RoleRef:
    group: str
    selector: str = "*"
    index: int | None = None

    @property
    def dynamic(self) -> bool:
        return self.selector != "*"

    @property
    def base_selector(self) -> str:
        """`leader` for `leader@notifications`."""
        return self.selector.partition("@")[0]

    @property
    def queue(self) -> str:
        """The RabbitMQ queue a leader/follower selector is about."""
        return self.selector.partition("@")[2] or DEFAULT_QUEUE

    def __str__(self) -> str:
        text = self.group if self.selector == "*" else f"{self.group}.{self.selector}"
        return text if self.index is None else f"{text}[{self.index}]"


def parse_role(text: str) -> RoleRef:
    match = _ROLE.match(text.strip())
    if match is None:
        raise StackError(f"{text!r} is not a role", hint="roles look like postgres.leader, rabbitmq.*, dashboard[0]")
    group, selector, index = match.group("group"), match.group("selector") or "*", match.group("index")
    ref = RoleRef(group, selector, int(index) if index is not None else None)
    if ref.dynamic:
        allowed = DYNAMIC.get(group)
        if allowed is None:
            raise StackError(f"role {text!r}: {group} has no roles, only `{group}` or `{group}[i]`")
        if ref.base_selector not in allowed:
            raise StackError(f"role {text!r}: {group} has the roles {', '.join(sorted(allowed))} (or *)")
        if "@" in ref.selector and group != "rabbitmq":
            raise StackError(f"role {text!r}: only rabbitmq roles name a queue (leader@QUEUE)")
    return ref


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
