"""Members of a replicated system -> the Compose services they run in.

A cluster manager names its members its own way (Patroni's `name:`, e.g. pgnode-a on the service
db-1) and says where each is reached (Patroni's `host` in `GET /cluster`: the host of its
`connect_address`, an address or a DNS name). Drills acts on services (a fault hits a service's
container; leader samples and verdicts name services), so each member is matched to the service
whose container answers to that host on the stack network, in this order:

    1. the stack file's `members: {member: service}` (the override, for what cannot be read);
    2. a host equal to a service container's address on the stack network;
    3. a host equal to a service's name (Compose's DNS name for it);
    4. a host equal to one of a container's other names there: its hostname (Compose `hostname:`),
       its network aliases, its DNS names;
    5. the member's own name, when it is a service's (the reference stack's convention).

A member none of these places is left unmatched, with the hosts it reported, so that the caller
can say which member and what to add to the stack file, rather than guess.

Pure: the stack reads the addresses and names (drills.stack), the adapter reads the members.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

# How a member was placed (MemberMatch.how): shown by status, so a surprising match can be traced.
BY_STACK_FILE = "stack file"
BY_ADDRESS = "address"
BY_SERVICE_NAME = "service name"
BY_ALIAS = "hostname or alias"
BY_MEMBER_NAME = "member name"


@dataclass(frozen=True)
class Addressed:
    """How one service's container is known on the stack network."""

    service: str
    ip: str | None = None
    names: tuple[str, ...] = ()  # hostname, network aliases, DNS names (any order, duplicates allowed)


def locate(host: str, services: Iterable[Addressed]) -> tuple[str, str] | None:
    """(service, how) whose container `host` is: its address, else its service name, else one of its
    other names. A name two services share (a load-balancing alias) places neither: None."""
    wanted = host.strip().lower()
    if not wanted:
        return None
    every = list(services)
    tiers: tuple[tuple[str, Callable[[Addressed], Iterable[str]]], ...] = (
        (BY_ADDRESS, lambda a: (a.ip,) if a.ip else ()),
        (BY_SERVICE_NAME, lambda a: (a.service,)),
        (BY_ALIAS, lambda a: a.names),
    )
    for how, names_of in tiers:
        found = {a.service for a in every if wanted in (n.lower() for n in names_of(a))}
        if len(found) == 1:
            return found.pop(), how
        if found:
            return None
    return None


def service_of_host(host: str, services: Iterable[Addressed]) -> str | None:
    """The service whose container `host` is (see `locate`), or None."""
    found = locate(host, services)
    return found[0] if found else None


@dataclass(frozen=True)
class MemberMatch:
    """Each member's service, how it was placed, and the members no service answers to."""

    services: Mapping[str, str] = field(default_factory=dict)  # member -> service
    how: Mapping[str, str] = field(default_factory=dict)  # member -> BY_*
    unmatched: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # member -> the hosts it reported

    def service(self, member: str) -> str | None:
        return self.services.get(member)

    def member(self, service: str) -> str | None:
        """The member running in `service` (None: no member is placed there)."""
        return next((m for m, s in self.services.items() if s == service), None)


def match_members(members: Mapping[str, Sequence[str]], services: Iterable[Addressed],
                  overrides: Mapping[str, str] | None = None, known: Collection[str] = ()) -> MemberMatch:
    """Place each member (member -> the hosts it reported, most telling first) on a service.

    `services`: the stack's containers as the network knows them; `overrides`: the stack file's
    `members:`; `known`: services that exist though their container may be down (a role's
    services): a member named after one of them is placed there (step 5 of the module's order)."""
    every = list(services)
    overrides = overrides or {}
    names = {a.service for a in every} | set(known)
    placed: dict[str, str] = {}
    how: dict[str, str] = {}
    unmatched: dict[str, tuple[str, ...]] = {}
    for member, hosts in members.items():
        found: tuple[str, str] | None = None
        if member in overrides:
            found = overrides[member], BY_STACK_FILE
        for host in hosts:
            if found is not None:
                break
            found = locate(host, every)
        if found is None and member in names:
            found = member, BY_MEMBER_NAME
        if found is None:
            unmatched[member] = tuple(h for h in hosts if h)
        else:
            placed[member], how[member] = found
    return MemberMatch(placed, how, unmatched)
