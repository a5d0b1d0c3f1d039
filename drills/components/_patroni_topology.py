"""Who is who in a PostgreSQL under Patroni, read of a running stack (`LegacyStack`): Patroni's
members placed on the services they run in, the cluster's status as `drill stack status` and
readiness read it, the proxy the applications reach it through, and the dynamic roles
`postgres.leader` / `postgres.replica`. Kept here until Patroni's adapter module exists
(plans/components-protocol.md, C-P1); the registry lists `resolve` and `read_status` in its
topology block. A PostgreSQL another manager runs (repmgr) is asked of its adapter instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from drills.components import _postgres_cluster as cluster
from drills.components._legacy_stack import LegacyStack, addressed, endpoints
from drills.components._members import MemberMatch, match_members
from drills.components._patroni_spec import PostgresSpec
from drills.components._postgres_spec import PostgresBase
from drills.core.errors import StackError
from drills.core.roles import RoleRef

GROUP = "postgres"  # the role group of the members (the stack file's roles:)


def match(stack: LegacyStack, snap: Mapping[str, Any], members: list[cluster.PgMember]) -> MemberMatch:
    """Patroni's members -> the services they run in (drills.components._members): the stack file's
    `members:`, the hosts Patroni reports, the member's own name. Inspecting containers for their
    hostnames costs a call each, so it is done only for a member nothing cheaper placed."""
    overrides = stack.definition.component("postgres", PostgresBase).members
    known = stack.settings.roles.roles.get(GROUP, ())
    claims = {m.name: m.hosts() for m in members}
    found = match_members(claims, addressed(snap), overrides, known)
    if found.unmatched:
        found = match_members(claims, addressed(snap, stack.host_names(snap)), overrides, known)
    return found


def placer(stack: LegacyStack, snap: Mapping[str, Any]) -> cluster.Placer:
    """What places Patroni's members on services for `_postgres_cluster.read_status`."""
    def place(members: list[cluster.PgMember]) -> list[cluster.PgMember]:
        found = match(stack, snap, members)
        return [replace(m, service=found.service(m.name)) for m in members]
    return place


def unmatched_text(stack: LegacyStack, snap: Mapping[str, Any], members: list[cluster.PgMember]) -> str:
    """Which members no service could be matched to, and what to do: start the containers that are
    down (a stopped container has no address to match), else name the services in the stack file."""
    said = ", ".join(f"{m.name} ({', '.join(m.hosts()) or 'no host'})" for m in members)
    down = [s for s in stack.defined(GROUP) if s not in snap or snap[s].state != "running"]
    if down:
        return (f"PostgreSQL members {said} match no running service; not running: {', '.join(down)} (a "
                "container that is down has no address to match: it is matched again once it runs)")
    example = ", ".join(f"{m.name}: <its service>" for m in members)
    return (f"PostgreSQL members {said} match no service by address, service name, hostname or alias: add "
            f"`members: {{{example}}}` under components: postgres: in the stack file "
            f"({stack.definition.path})")


def proxy_paths(stack: LegacyStack, snap: Mapping[str, Any]) -> tuple[cluster.ProxyPath, ...] | None:
    """The proxy the applications reach PostgreSQL through (`components.postgres.access`), one path
    per service of its role, each probed for where a session lands; None: the stack names no proxy
    (the signals connect to every member)."""
    pg = stack.definition.component("postgres", PostgresBase)
    if pg.access is None:
        return None
    through, port = pg.access.through, pg.access.port
    services = stack.settings.roles.members(through, snap) or list(stack.defined(through))
    found = endpoints(snap, services, port)
    paths = [cluster.ProxyPath(through, s, port, found.get(s)) for s in services]
    app = pg.login("app")
    try:
        password = stack.credential(app.password)
    except StackError as exc:
        return tuple(replace(p, error=str(exc)) for p in paths)
    return tuple(cluster.probe_proxy(p, app.user, password, pg.database) for p in paths)


def read_status(stack: LegacyStack, snap: Mapping[str, Any]) -> cluster.PostgresStatus:
    """Patroni's view, and replication as the stack file's superuser sees it; a password that
    cannot be read is the status's error (`drill stack status` shows it, readiness waits on it).
    A PostgreSQL another manager runs: what its adapter says (`drills.components`)."""
    bound = stack.definition.bound().get("postgres")
    if bound is not None:
        if bound.adapter.status is None:
            return cluster.PostgresStatus(None, (), (), error=f"{bound.adapter.label}: its adapter reads no status")
        return cluster.from_view(bound.adapter.status(bound.spec, stack.live(snap)))
    pg = stack.definition.component("postgres", PostgresSpec)
    nodes = stack.members(snap, GROUP)
    superuser = pg.login("superuser")
    try:
        password = stack.credential(superuser.password)
    except StackError as exc:
        return cluster.PostgresStatus(None, (), (), error=str(exc))
    return cluster.read_status(endpoints(snap, nodes, pg.rest_port), endpoints(snap, nodes, pg.sql_port),
                               superuser.user, password, placer(stack, snap))


def resolve(stack: LegacyStack, snap: Mapping[str, Any], ref: RoleRef, group: list[str]) -> list[str]:
    """`postgres.leader`: the member Patroni says leads, on its service; `postgres.replica`: the
    others that run on a service of the group."""
    rest = endpoints(snap, group, stack.definition.component("postgres", PostgresSpec).rest_port)
    members = placer(stack, snap)(cluster.read_cluster(list(rest.values())))
    leader = cluster.leader_of(members)
    if leader is None:
        raise StackError(f"{ref}: PostgreSQL has no single leader right now ({[m.name for m in members]})")
    if ref.base_selector == "leader":
        service = cluster.service_of(members, leader)
        if service is None:
            raise StackError(f"{ref}: {unmatched_text(stack, snap, [m for m in members if m.name == leader])}")
        return [service]
    # A replica no service was matched to is one Drills cannot act on (readiness names it).
    return [m.service for m in members if m.name != leader and m.service is not None and m.service in group]
