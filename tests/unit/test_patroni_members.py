"""Patroni member names -> Compose services (issue 21, D3): a stack whose members are pgnode-a..c on
the services db-1..3 is placed by address, service name, hostname or alias, or the stack file's
`members:`; a member nothing places is named, never guessed. Recorded-shape `/cluster` answers, no
containers."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drills.components import _patroni_topology
from drills.components import _postgres_cluster as postgres
from drills.components._members import (
    BY_ADDRESS,
    BY_ALIAS,
    BY_MEMBER_NAME,
    BY_SERVICE_NAME,
    BY_STACK_FILE,
    Addressed,
    match_members,
    service_of_host,
)
from drills.core.errors import StackError
from drills.stack import topology
from drills.stack.definition import RoleMap, StackDefinition, StackFile
from drills.stack.env import Secrets, StackSettings
from drills.stack.services import ServiceInfo, inspect_names, parse_summary
from tests.stand_ins import offline_credential

FIXTURES = Path(__file__).parent / "fixtures"
ORDERS = json.loads((FIXTURES / "patroni" / "cluster-orders.json").read_text())
REFERENCE = json.loads((FIXTURES / "effective" / "patroni-cluster.json").read_text())
IPS = {"db-1": "10.89.4.11", "db-2": "10.89.4.12", "db-3": "10.89.4.13", "dcs-1": "10.89.4.21", "pgproxy": "10.89.4.30"}


def orders_definition(**postgres_fields: Any) -> StackDefinition:
    """A stack file shaped like stacks/examples/debian-patroni's (plans/components-protocol.md 4.1)."""
    spec = StackFile.model_validate({
        "stack": "orders-db", "compose": {"files": ["compose.yaml"]},
        "roles": {"postgres": ["db-1", "db-2", "db-3"], "etcd": ["dcs-1"], "db-proxy": ["pgproxy"]},
        "components": {"postgres": {"adapter": "patroni", "database": "orders", "user": "orders_app",
                                    **postgres_fields}},
    })
    return StackDefinition(Path("/stacks/orders/stack.yaml"), spec)


def info(service: str, *, ip: str | None = None, state: str = "running", aliases: tuple[str, ...] = (),
         ports: dict[int, int] | None = None) -> ServiceInfo:
    return ServiceInfo(service, f"id-{service}", f"orders-{service}-1", state, "Up", None,
                       IPS.get(service) if ip is None and state == "running" else ip, ports or {}, aliases=aliases)


class OrdersStack:
    """A stand-in of the running orders stack: what topology reads (settings, definition, snapshot,
    and the names inspect would give, counted)."""

    def __init__(self, definition: StackDefinition | None = None, snap: dict[str, ServiceInfo] | None = None,
                 names: dict[str, tuple[str, ...]] | None = None) -> None:
        self.definition = definition or orders_definition()
        roles = RoleMap.build(self.definition.declared_roles(), {})
        self.settings = StackSettings("orders-test", ipaddress.IPv4Network("10.89.4.0/24"), {}, Secrets.generate(),
                                      roles=roles, definition=self.definition)
        self.snap = snap if snap is not None else {s: info(s) for s in IPS}
        self.names = names or {}
        self.inspected = 0

    def snapshot(self) -> dict[str, ServiceInfo]:
        return self.snap

    def host_names(self, snap: Any) -> dict[str, tuple[str, ...]]:
        self.inspected += 1
        return self.names

    def credential(self, ref: Any) -> str:
        return offline_credential(self, ref)


def addressed(snap: dict[str, ServiceInfo]) -> list[Addressed]:
    return topology.addressed(snap)


# ---- the pure matching --------------------------------------------------------------------------


def test_members_named_otherwise_are_placed_by_the_address_patroni_reports():
    members = postgres.parse_cluster(ORDERS)
    assert (members[0].name, members[0].host, members[0].api_host) == ("pgnode-a", "10.89.4.11", "10.89.4.11")
    match = match_members({m.name: m.hosts() for m in members}, addressed({s: info(s) for s in IPS}))
    assert match.services == {"pgnode-a": "db-1", "pgnode-b": "db-2", "pgnode-c": "db-3"}
    assert set(match.how.values()) == {BY_ADDRESS} and match.unmatched == {}
    assert match.member("db-2") == "pgnode-b" and match.member("pgproxy") is None


def test_each_way_a_host_can_name_a_service_in_the_documented_order():
    services = [Addressed("db-1", "10.89.4.11", ("orders-db-1-1", "pgnode-a")),
                Addressed("db-2", "10.89.4.12", ("pgnode-b.orders.internal",)),
                Addressed("db-3", None, ())]
    match = match_members({"pgnode-a": ("pgnode-a",), "pgnode-b": ("db-2",), "pgnode-c": ("10.89.4.99",),
                           "db-3": ("10.89.4.99",), "pgnode-d": ("10.89.4.11",)},
                          services, overrides={"pgnode-c": "db-3"})
    assert match.services == {"pgnode-a": "db-1", "pgnode-b": "db-2", "pgnode-c": "db-3", "db-3": "db-3",
                              "pgnode-d": "db-1"}
    assert match.how == {"pgnode-a": BY_ALIAS, "pgnode-b": BY_SERVICE_NAME, "pgnode-c": BY_STACK_FILE,
                         "db-3": BY_MEMBER_NAME, "pgnode-d": BY_ADDRESS}


def test_the_stack_file_wins_over_what_the_addresses_say():
    match = match_members({"pgnode-a": ("10.89.4.11",)}, addressed({s: info(s) for s in IPS}),
                          overrides={"pgnode-a": "db-3"})
    assert match.services == {"pgnode-a": "db-3"} and match.how == {"pgnode-a": BY_STACK_FILE}


def test_a_member_nothing_places_is_reported_with_the_hosts_it_reported():
    match = match_members({"pgnode-x": ("10.89.4.77", "pgnode-x.local"), "pgnode-y": ()},
                          addressed({s: info(s) for s in IPS}))
    assert match.services == {}
    assert match.unmatched == {"pgnode-x": ("10.89.4.77", "pgnode-x.local"), "pgnode-y": ()}


def test_a_name_two_services_share_places_neither_and_names_are_case_insensitive():
    shared = [Addressed("db-1", "10.0.0.1", ("postgres",)), Addressed("db-2", "10.0.0.2", ("postgres",))]
    assert service_of_host("postgres", shared) is None
    assert service_of_host("DB-2", shared) == "db-2"
    assert service_of_host("", shared) is None
    # an address is more telling than a name: a service named like another's address does not win
    assert service_of_host("10.0.0.1", [*shared, Addressed("10.0.0.1")]) == "db-1"


def test_the_reference_stack_is_placed_by_name_without_any_address():
    members = postgres.parse_cluster(REFERENCE)
    match = match_members({m.name: m.hosts() for m in members}, [Addressed("pg1"), Addressed("pg2")],
                          known=("pg1", "pg2", "pg3"))
    assert match.services == {"pg1": "pg1", "pg2": "pg2", "pg3": "pg3"}  # pg3's container is gone: still its own
    assert set(match.how.values()) == {BY_MEMBER_NAME}


@given(st.permutations(["db-1", "db-2", "db-3", "db-4", "db-5"]), st.sets(st.integers(0, 4)))
def test_any_assignment_of_members_to_services_is_recovered_from_their_addresses(services, overridden):
    members = [f"pgnode-{i}" for i in range(5)]
    ips = {s: f"10.1.0.{10 + n}" for n, s in enumerate(sorted(services))}
    truth = dict(zip(members, services, strict=True))
    # the stack file names some members on another service than their address says: it wins for those
    overrides = {members[i]: "db-9" for i in overridden}
    match = match_members({m: (ips[s],) for m, s in truth.items()}, [Addressed(s, ip) for s, ip in ips.items()],
                          overrides)
    assert match.services == {m: overrides.get(m, s) for m, s in truth.items()}
    assert match.unmatched == {}


# ---- what Docker says of the containers ------------------------------------------------------------


def test_the_container_list_gives_aliases_and_dns_names_on_the_stack_network():
    doc = {"Id": "c1", "Names": ["/orders-db-1-1"], "State": "running", "Status": "Up 3 minutes",
           "Labels": {"com.docker.compose.service": "db-1"},
           "NetworkSettings": {"Networks": {"orders-test_backend": {
               "IPAddress": "10.89.4.11", "Aliases": ["orders-db-1-1", "db-1"],
               "DNSNames": ["orders-db-1-1", "db-1", "pgnode-a", "c1"]}}}}
    found = parse_summary(doc, "orders-test_backend")
    assert found.ip == "10.89.4.11" and found.aliases == ("orders-db-1-1", "db-1", "pgnode-a", "c1")
    # Drills' guess of the network's name is wrong for a stack that names its own: its only network is meant
    assert parse_summary(doc, "orders-test_stack").ip == "10.89.4.11"
    two = {**doc, "NetworkSettings": {"Networks": {"a": {"IPAddress": "1.1.1.1"}, "b": {"IPAddress": "2.2.2.2"}}}}
    assert parse_summary(two, "orders-test_stack").ip is None  # which one? neither


def test_inspect_gives_the_hostname_compose_set():
    doc = {"Config": {"Hostname": "pgnode-a", "Domainname": "orders.internal"},
           "NetworkSettings": {"Networks": {"orders-test_backend": {"Aliases": ["orders-db-1-1", "db-1", "3f2c"]}}}}
    assert inspect_names(doc, "orders-test_backend") == (
        "pgnode-a", "pgnode-a.orders.internal", "orders-db-1-1", "db-1", "3f2c")
    assert inspect_names({}, "x") == ()


def test_a_project_inspects_each_container_once_and_only_running_ones():
    from drills.stack.project import ComposeProject

    class Api:
        calls: list[str] = []  # noqa: RUF012

        def inspect_container(self, cid: str) -> dict[str, Any]:
            self.calls.append(cid)
            return {"Config": {"Hostname": {"id-db-1": "pgnode-a"}.get(cid, "")}}

    class Client:
        api = Api()

    definition = orders_definition()
    settings = StackSettings("orders-test", ipaddress.IPv4Network("10.89.4.0/24"), {}, Secrets.generate(),
                             definition=definition)
    project = ComposeProject(settings, client=Client())  # type: ignore[arg-type]
    snap = {"db-1": info("db-1"), "db-2": info("db-2"), "db-3": info("db-3", state="exited")}
    assert project.host_names(snap) == {"db-1": ("pgnode-a",), "db-2": ()}
    assert project.service_of_host("pgnode-a", snap) == "db-1"
    assert project.service_of_host("10.89.4.12", snap) == "db-2"
    assert Api.calls == ["id-db-1", "id-db-2"], "each container inspected once, a stopped one never"


# ---- where the stack uses it --------------------------------------------------------------------------


@pytest.fixture()
def orders_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres, "read_cluster", lambda endpoints, timeout_s=2.0: postgres.parse_cluster(ORDERS))


def rest_published() -> dict[str, ServiceInfo]:
    return {s: info(s, ports={8008: 41000 + n, 5432: 42000 + n}) for n, s in enumerate(IPS)}


def test_roles_resolve_to_services_when_members_are_named_otherwise(orders_cluster):
    stack = OrdersStack(snap=rest_published())
    assert topology.resolve(stack, "postgres.leader") == ["db-2"]
    assert topology.resolve(stack, "postgres.replica") == ["db-1", "db-3"]
    assert stack.inspected == 0, "addresses placed every member: no container inspected"


def test_a_leader_no_service_answers_to_is_an_error_that_says_what_to_add(orders_cluster):
    snap = {s: info(s, ip="10.1.1.1" if s.startswith("db") else None, ports={8008: 41000}) for s in IPS}
    snap = {s: ServiceInfo(i.service, i.container_id, i.name, i.state, i.status, i.health, None, i.ports)
            for s, i in snap.items()}
    stack = OrdersStack(snap=snap)
    with pytest.raises(StackError) as err:
        topology.resolve(stack, "postgres.leader")
    said = str(err.value)
    assert "pgnode-b (10.89.4.12)" in said and "members: {pgnode-b: <its service>}" in said
    assert "/stacks/orders/stack.yaml" in said and stack.inspected == 1
    # the same stack, its members named in the stack file: placed
    named = OrdersStack(orders_definition(members={"pgnode-a": "db-1", "pgnode-b": "db-2", "pgnode-c": "db-3"}),
                        snap=snap)
    assert topology.resolve(named, "postgres.leader") == ["db-2"]


def test_a_member_whose_container_is_down_is_said_so_not_blamed_on_the_stack_file(orders_cluster):
    snap = rest_published()
    snap["db-3"] = info("db-3", state="exited")
    stack = OrdersStack(snap=snap)
    status = _patroni_topology.read_status(topology.Legacy(stack), snap)
    [lost] = status.unmatched()
    assert lost.name == "pgnode-c"
    said = _patroni_topology.unmatched_text(topology.Legacy(stack), snap, status.unmatched())
    assert "not running: db-3" in said and "members:" not in said


def test_status_reads_replication_from_the_leader_s_service(orders_cluster, monkeypatch):
    asked = []

    def replication(endpoint: tuple[str, int], user: str, password: str) -> list[postgres.StreamingReplica]:
        asked.append(endpoint)
        return [postgres.StreamingReplica("pgnode-a", "10.89.4.11", "streaming", 0, 0, 0.0),
                postgres.StreamingReplica("pgnode-c", "10.89.4.13", "streaming", 0, 0, 0.0)]

    monkeypatch.setattr(postgres, "read_replication", replication)
    stack = OrdersStack(snap=rest_published())
    status = _patroni_topology.read_status(topology.Legacy(stack), stack.snap)
    assert asked == [("127.0.0.1", 42001)], "db-2's published 5432: pgnode-b's service"
    assert (status.leader, status.leader_service, status.error) == ("pgnode-b", "db-2", None)
    assert {m.name: m.service for m in status.members} == {"pgnode-a": "db-1", "pgnode-b": "db-2", "pgnode-c": "db-3"}


def test_the_effective_configuration_names_members_with_their_services():
    from drills.components._patroni_effective import describe as postgres_text
    from drills.components._patroni_effective import parse_patroni
    from drills.core.effective_config import READ, Part

    stack = OrdersStack()
    _, state = parse_patroni({}, ORDERS, None, _patroni_topology.placer(topology.Legacy(stack), stack.snap))
    assert state["leader"] == "pgnode-b"
    assert state["members"][1] == {"name": "pgnode-b", "role": "leader", "state": "running", "service": "db-2"}
    assert "now replica pgnode-a (db-1), leader pgnode-b (db-2)," in postgres_text(Part(READ, state=state))
    # where member and service are one name (the reference stack), it is said once
    same = {"members": [{"name": "pg1", "role": "leader", "state": "running", "service": "pg1"}]}
    assert postgres_text(Part(READ, state=same)).endswith("now leader pg1")
