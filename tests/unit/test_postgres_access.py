"""The path applications use (issue 21, E1): with `components.postgres.access: {through: db-proxy,
port: 5000}` the postgres.* signals connect to the proxy as the host reaches it, readiness waits for
a session through it to land on the leader, status shows it, the journal records it, and a role
no service plays is refused before anything starts. No containers: stand-ins and synthetic
observations."""

from __future__ import annotations

import ipaddress
import socket
import time
from typing import Any

import pytest
from psycopg.conninfo import conninfo_to_dict

from drills.components import _legacy_ready as legacy_ready
from drills.components import _patroni_topology
from drills.components._postgres_cluster import PgMember, PostgresStatus, ProxyPath, StreamingReplica, probe_proxy
from drills.core.errors import ScenarioError, StackError
from drills.core.wait import Observation
from drills.stack import topology
from drills.stack.definition import RoleMap
from drills.stack.env import Secrets, StackSettings
from drills.workload.signal import SignalContext
from tests.integration.recording import Ops
from tests.unit.test_patroni_members import IPS, OrdersStack, info, orders_definition

ACCESS = {"access": {"through": "db-proxy", "port": 5000}}


class Published(OrdersStack):
    """The orders stack with the host ports `drill stack up` picked (what wt-override's generated
    override publishes): each service's 5432, 8008 and the proxy's 5000."""

    def __init__(self, **postgres_fields: Any) -> None:
        super().__init__(orders_definition(**postgres_fields))
        self.settings = StackSettings(self.settings.project, self.settings.subnet, {}, Secrets.generate(),
                                      roles=self.settings.roles, definition=self.definition,
                                      ports={"DRILLS_PORT_PGPROXY_5000": 45000, "DRILLS_PORT_DB_1_5432": 45001,
                                             "DRILLS_PORT_DB_2_5432": 45002, "DRILLS_PORT_DB_3_5432": 45003})


def context(stack: OrdersStack) -> SignalContext:
    return SignalContext(stack, Ops(), time.monotonic, run="test")


# ---- the signals ----------------------------------------------------------------------------------


def test_with_access_the_signals_connect_to_the_proxy_alone_and_still_ask_for_the_leader():
    from drills.workload.postgres_read import ReadTarget
    from drills.workload.signals.postgres_write import target

    found = target(context(Published(**ACCESS)))
    assert found.endpoints == (("127.0.0.1", 45000),) and found.via == "db-proxy"
    write = conninfo_to_dict(found.conninfo())
    assert (write["host"], write["port"], write["target_session_attrs"]) == ("127.0.0.1", "45000", "read-write")
    assert (write["user"], write["dbname"]) == ("orders_app", "orders")
    read = conninfo_to_dict(ReadTarget(found).conninfo())
    assert (read["host"], read["port"], read["target_session_attrs"]) == ("127.0.0.1", "45000", "prefer-standby")


def test_without_access_the_signals_connect_to_every_member():
    from drills.workload.signals.postgres_write import target

    found = target(context(Published()))
    assert found.endpoints == (("127.0.0.1", 45001), ("127.0.0.1", 45002), ("127.0.0.1", 45003))
    assert found.via == ""
    assert conninfo_to_dict(found.conninfo())["host"] == "127.0.0.1,127.0.0.1,127.0.0.1"


def test_a_proxy_the_host_cannot_reach_is_an_error_naming_it():
    from drills.workload.signals.postgres_write import target

    stack = Published(access={"through": "db-proxy", "port": 6432})  # a port nothing publishes
    with pytest.raises(StackError, match="no db-proxy node of orders-test publishes port 6432"):
        target(context(stack))


# ---- readiness --------------------------------------------------------------------------------------


def ready_cluster() -> PostgresStatus:
    members = (PgMember("pgnode-a", "replica", "streaming", "10.89.4.11", service="db-1"),
               PgMember("pgnode-b", "leader", "running", "10.89.4.12", service="db-2"),
               PgMember("pgnode-c", "replica", "streaming", "10.89.4.13", service="db-3"))
    replication = tuple(StreamingReplica(n, "", "streaming", 0, 0, 0.0) for n in ("pgnode-a", "pgnode-c"))
    return PostgresStatus("pgnode-b", members, replication)


def proxy(**outcome: Any) -> ProxyPath:
    return ProxyPath("db-proxy", "pgproxy", 5000, ("127.0.0.1", 45000), **outcome)


@pytest.fixture()
def probed(monkeypatch: pytest.MonkeyPatch) -> list[ProxyPath]:
    """What the proxy answers (set by the test), and a cluster that is ready behind it."""
    answer: list[ProxyPath] = []
    monkeypatch.setattr(_patroni_topology, "read_status", lambda view, snap: ready_cluster())
    monkeypatch.setattr(_patroni_topology, "proxy_paths", lambda view, snap: tuple(answer))
    return answer


def test_a_proxy_that_sends_sessions_to_a_replica_keeps_the_stack_not_ready(probed):
    probed.append(proxy(leader=False))
    seen = legacy_ready.postgres_ready(topology.Legacy(Published(**ACCESS)))
    assert not seen.ready
    assert "leader pgnode-b (db-2), streaming: pgnode-a, pgnode-c" in seen.detail
    assert "the proxy db-proxy (pgproxy:5000) sends connections to a replica, not to the leader" in seen.detail


def test_a_proxy_that_refuses_sessions_keeps_the_stack_not_ready(probed):
    probed.append(proxy(error="server closed the connection unexpectedly"))
    seen = legacy_ready.postgres_ready(topology.Legacy(Published(**ACCESS)))
    assert not seen.ready
    assert "the proxy db-proxy (pgproxy:5000) refuses connections: server closed the connection" in seen.detail


def test_a_proxy_that_reaches_the_leader_makes_the_stack_ready(probed):
    probed.append(proxy(leader=True))
    seen = legacy_ready.postgres_ready(topology.Legacy(Published(**ACCESS)))
    assert seen == Observation(True, "leader pgnode-b (db-2), streaming: pgnode-a, pgnode-c; through "
                                     "db-proxy (pgproxy:5000): the leader")


def test_without_access_or_before_the_cluster_is_ready_the_proxy_is_not_asked(monkeypatch):
    def never(view: Any, snap: Any) -> tuple[ProxyPath, ...]:
        raise AssertionError("the proxy was probed")

    monkeypatch.setattr(_patroni_topology, "proxy_paths", never)
    monkeypatch.setattr(_patroni_topology, "read_status", lambda view, snap: ready_cluster())
    assert legacy_ready.postgres_ready(topology.Legacy(Published())).ready
    lagging = ready_cluster()
    monkeypatch.setattr(_patroni_topology, "read_status", lambda view, snap: PostgresStatus(
        lagging.leader, lagging.members, lagging.replication[:1]))
    assert not legacy_ready.postgres_ready(topology.Legacy(Published(**ACCESS))).ready


def test_a_member_no_service_answers_to_keeps_the_stack_not_ready_and_says_which(monkeypatch):
    status = ready_cluster()
    lost = PgMember("pgnode-d", "replica", "streaming", "10.89.4.77")
    monkeypatch.setattr(_patroni_topology, "read_status", lambda view, snap: PostgresStatus(
        status.leader, (*status.members, lost), status.replication))
    seen = legacy_ready.postgres_ready(topology.Legacy(Published()))
    assert not seen.ready and "pgnode-d (10.89.4.77)" in seen.detail
    assert "members: {pgnode-d: <its service>}" in seen.detail


def test_a_proxy_role_without_a_service_is_said():
    seen = legacy_ready.through_proxy(Observation(True, "leader x"), "db-proxy", ())
    assert seen == Observation(False, "leader x; no service plays db-proxy, the proxy components.postgres.access names")


def test_the_proxy_is_probed_where_the_host_reaches_it(monkeypatch):
    import drills.components._postgres_cluster as pg

    asked = []

    def lands(endpoint: tuple[str, int], user: str, password: str, dbname: str, timeout_s: int = 2) -> bool:
        asked.append((endpoint, user, dbname))
        return False

    monkeypatch.setattr(pg, "lands_on_leader", lands)
    stack = Published(**ACCESS)
    stack.snap = {**stack.snap, "pgproxy": info("pgproxy", ports={5000: 45000})}
    [path] = _patroni_topology.proxy_paths(topology.Legacy(stack), stack.snap) or ()
    assert asked == [(("127.0.0.1", 45000), "orders_app", "orders")]
    assert path.leader is False and path.problem() == ("the proxy db-proxy (pgproxy:5000) sends connections to a "
                                                       "replica, not to the leader")
    bare = topology.Legacy(Published())
    assert _patroni_topology.proxy_paths(bare, stack.snap) is None, "no access: nothing to probe"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_proxy_not_running_or_refusing_is_said_so():
    stopped = ProxyPath("db-proxy", "pgproxy", 5000, None)
    assert probe_proxy(stopped, "u", "p", "d") == stopped
    assert stopped.problem() == ("the proxy db-proxy (pgproxy:5000) is not running, or the host does not reach its "
                                 "port 5000")
    refused = probe_proxy(ProxyPath("db-proxy", "pgproxy", 5000, ("127.0.0.1", closed_port())), "u", "p", "d")
    assert refused.leader is None and refused.error and "refuses connections" in (refused.problem() or "")


# ---- the stack file, the journal, status -------------------------------------------------------------


def test_read_roles_refuses_an_access_role_no_service_plays(monkeypatch):
    from drills.stack.project import ComposeProject

    definition = orders_definition(access={"through": "pg-bouncer", "port": 6432})
    settings = StackSettings("orders-test", ipaddress.IPv4Network("10.89.4.0/24"), {}, Secrets.generate(),
                             definition=definition)
    project = ComposeProject(settings)
    monkeypatch.setattr(project, "config", lambda profiles=None: {"services": {s: {} for s in IPS}})
    with pytest.raises(ScenarioError) as err:
        project.read_roles()
    assert "components.postgres.access.through names the role pg-bouncer, which no service plays" in str(err.value)
    assert "roles: pg-bouncer: [...]" in str(err.value)
    proxied = ComposeProject(StackSettings("orders-test", ipaddress.IPv4Network("10.89.4.0/24"), {},
                                           Secrets.generate(), definition=orders_definition(**ACCESS)))
    monkeypatch.setattr(proxied, "config", lambda profiles=None: {"services": {s: {} for s in IPS}})
    assert proxied.read_roles().roles["db-proxy"] == ("pgproxy",)


def test_the_journal_records_the_path_the_signals_took():
    roles = RoleMap.build(orders_definition().declared_roles(), {})
    assert orders_definition(**ACCESS).record(roles)["access"] == {
        "postgres": {"through": "db-proxy", "services": ["pgproxy"], "port": 5000}}
    assert orders_definition().record(roles)["access"] == {
        "postgres": {"through": None, "services": ["db-1", "db-2", "db-3"], "port": 5432}}
    assert orders_definition(**ACCESS).record(None)["access"]["postgres"]["services"] is None


def test_status_shows_the_path_and_whether_it_reaches_the_leader():
    from rich.console import Console

    from drills.cli.stack import _render_view
    from drills.components._legacy_status import postgres_access

    def shown(paths: tuple[ProxyPath, ...] | None) -> str:
        console = Console(record=True, width=200)
        _render_view(console, postgres_access(paths, ("db-1",)))
        return console.export_text()

    assert shown((proxy(leader=True),)) == ("PostgreSQL access: through db-proxy (pgproxy:5000), 127.0.0.1:45000: "
                                            "reaches the leader\n")
    assert "sends connections to a replica" in shown((proxy(leader=False),))
    assert shown(None) == "PostgreSQL access: every member directly (libpq multi-host, read-write)\n"



def test_status_says_a_role_the_stack_lacks_is_not_in_it_and_keeps_one_left_out_for_its_image():
    from types import SimpleNamespace

    from drills.stack.status import StackStatus

    def not_in_stack(st: SimpleNamespace, role: str) -> bool:
        return StackStatus.not_in_stack(st, role)  # type: ignore[arg-type]

    postgres_only = SimpleNamespace(stack="orders-db", roles={"postgres": ["db-1"], "etcd": ["dcs-1"]})
    assert not_in_stack(postgres_only, "mongo") and not_in_stack(postgres_only, "rabbitmq")
    reference = SimpleNamespace(stack="api-fortress-ha", roles={"mongo": ["mongo1"], "rabbitmq": ["rabbit1"]})
    assert not not_in_stack(reference, "mongo") and not not_in_stack(reference, "rabbitmq")
