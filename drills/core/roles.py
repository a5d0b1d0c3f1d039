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

Which groups have dynamic roles, and which selectors, is not this module's: each component says
its own (`drills.components.registry.grammar()`, passed to `parse_role` by whatever reads a
scenario). Without a grammar `parse_role` checks the syntax alone, which is enough for a role
already read from a scenario.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from drills.core.errors import StackError


@dataclass(frozen=True)
class RoleGrammar:
    """The dynamic roles of one group (a component's kind): its selectors, those naming one node,
    and what a selector's `@X` names when it takes one (a queue: leader@QUEUE)."""

    selectors: frozenset[str]
    single: frozenset[str] = frozenset()
    qualifier: str | None = None


Grammar = Mapping[str, RoleGrammar]  # group -> its dynamic roles, in the order examples are drawn from

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


def _examples(grammar: Grammar) -> list[str]:
    """Roles to show in a hint: the first group's one node, the second's whole group."""
    groups = [(group, g) for group, g in grammar.items() if g.selectors]
    shown = [f"{group}.{min(g.single or g.selectors)}" for group, g in groups[:1]]
    return shown + [f"{group}.*" for group, _ in groups[1:2]]


def _qualifier_problem(text: str, group: str, grammar: Grammar) -> str:
    named = [(name, g) for name, g in grammar.items() if g.qualifier]
    if not named:
        return f"role {text!r}: {group} roles name nothing after @"
    kinds = " and ".join(name for name, _ in named)
    _, first = named[0]
    example = f"{min(first.single or first.selectors)}@{str(first.qualifier).upper()}"
    return f"role {text!r}: only {kinds} roles name a {first.qualifier} ({example})"


def parse_role(text: str, grammar: Grammar | None = None) -> RoleRef:
    """The role `text` names; a StackError saying what is allowed when it is none. `grammar` (the
    components' registry's) says which selectors each group has; None: the syntax alone."""
    match = _ROLE.match(text.strip())
    if match is None:
        hint = ", ".join([*_examples(grammar or {}), "dashboard[0]"])
        raise StackError(f"{text!r} is not a role", hint=f"roles look like {hint}")
    group, selector, index = match.group("group"), match.group("selector") or "*", match.group("index")
    if index is not None and len(index.lstrip("0")) > MAX_INDEX_DIGITS:
        shown = group if selector == "*" else f"{group}.{selector}"
        raise StackError(f"role {shown}[...]: index too large ({len(index):,} digits); an index counts the role's "
                         f"nodes from 0, e.g. {shown}[0]")
    # Leading zeros do not count (and int() refuses a string of over 4,300 digits, zeros or not).
    ref = RoleRef(group, selector, int(index.lstrip("0") or "0") if index is not None else None)
    if ref.dynamic and grammar is not None:
        roles = grammar.get(group)
        if roles is None or not roles.selectors:
            raise StackError(f"role {text!r}: {group} has no roles, only `{group}` or `{group}[i]`")
        if ref.base_selector not in roles.selectors:
            raise StackError(f"role {text!r}: {group} has the roles {', '.join(sorted(roles.selectors))} (or *)")
        if "@" in ref.selector and roles.qualifier is None:
            raise StackError(_qualifier_problem(text, group, grammar))
    return ref
