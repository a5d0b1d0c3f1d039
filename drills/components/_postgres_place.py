"""Which of the stack's services each member of a PostgreSQL cluster runs in, as Patroni lists
its members (drills.components._members): the stack file's `members:`, the hosts Patroni reports,
the member's own name. What `drill stack status`, the roles, readiness and the effective
configuration place Patroni's members with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from drills.components._effective_stack import Placing, Service, addressed
from drills.components._members import MemberMatch, match_members
from drills.components._postgres_cluster import PgMember, Placer


def match_postgres(view: Placing, snap: Mapping[str, Service], members: list[PgMember]) -> MemberMatch:
    """Patroni's members -> the services they run in. Inspecting containers for their hostnames
    costs a call each, so it is done only for a member nothing cheaper placed."""
    overrides = view.definition.postgres().members
    known = view.settings.roles.roles.get("postgres", ())
    claims = {m.name: m.hosts() for m in members}
    match = match_members(claims, addressed(snap), overrides, known)
    if match.unmatched:
        match = match_members(claims, addressed(snap, view.host_names(snap)), overrides, known)
    return match


def placer(view: Placing, snap: Mapping[str, Service]) -> Placer:
    """What places Patroni's members on services (`_postgres_cluster.read_status`, `parse_patroni`)."""
    def place(members: list[PgMember]) -> list[PgMember]:
        match = match_postgres(view, snap, members)
        return [replace(m, service=match.service(m.name)) for m in members]
    return place
