"""Role names: how scenarios and faults name the containers they act on (the grammar; pure).

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
`mongo.primary`, `dashboard[1]`, `clients`. The grammar is the scenario files' language, so it sits
on the ground floor (the scenario models read it); which services a group names on a stack is its
stack file's role map (`drills.stack.definition.RoleMap`, in `drills.stack.roles`' order), and
who leads now is asked of the live system each time (`drills.stack.topology`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from drills.core.errors import StackError

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
# An index counts a role's nodes (a handful); past this many digits it is a typo, and past 4,300
# Python's int() refuses to read it (a ValueError where every other mistake is a StackError).
MAX_INDEX_DIGITS = 4


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
    if index is not None and len(index.lstrip("0")) > MAX_INDEX_DIGITS:
        shown = group if selector == "*" else f"{group}.{selector}"
        raise StackError(f"role {shown}[...]: index too large ({len(index):,} digits); an index counts the role's "
                         f"nodes from 0, e.g. {shown}[0]")
    # Leading zeros do not count (and int() refuses a string of over 4,300 digits, zeros or not).
    ref = RoleRef(group, selector, int(index.lstrip("0") or "0") if index is not None else None)
    if ref.dynamic:
        allowed = DYNAMIC.get(group)
        if allowed is None:
            raise StackError(f"role {text!r}: {group} has no roles, only `{group}` or `{group}[i]`")
        if ref.base_selector not in allowed:
            raise StackError(f"role {text!r}: {group} has the roles {', '.join(sorted(allowed))} (or *)")
        if "@" in ref.selector and group != "rabbitmq":
            raise StackError(f"role {text!r}: only rabbitmq roles name a queue (leader@QUEUE)")
    return ref
