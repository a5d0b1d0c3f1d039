"""Signals and backups exercise the objects the stack file names (its database, users, replica set,
balancer), never ones the code knows by name: a stand-in stack whose stack file names others gets
clients that use those."""

from __future__ import annotations

import ipaddress
import time
from dataclasses import replace
from typing import Any

import pytest

from drills.core.errors import HarnessError, ScenarioError
from drills.stack.definition import StackDefinition
from drills.stack.env import Secrets, StackSettings
from drills.stack.services import ServiceInfo
from drills.workload.signal import SignalContext
from tests.integration.recording import Ops
from tests.stand_ins import reference_definition, reference_roles

ELSEWHERE = {
    "postgres": {"database": "ledger", "user": "clerk", "superuser": "dba", "sql_port": 6432},
    "mongo": {"database": "results", "user": "writer", "root_user": "admin2", "replica_set": "prod-rs", "port": 27018},
    "http": {"balancer": "front", "port": 9000},
    "rabbitmq": {"user": "bunny", "management_port": 15999},
}


class StandIn:
    """Every service of the reference stack, published on `port`, with the stack file `definition`."""

    project = "drills-test"

    def __init__(self, definition: StackDefinition, port: int = 1) -> None:
        self.settings = StackSettings("drills-test", ipaddress.IPv4Network("172.30.9.0/24"), {}, Secrets.generate(),
                                      roles=reference_roles())
        self.definition = definition
        services = ("pg1", "pg2", "pg3", "rabbit1", "rabbit2", "rabbit3", "mongo1", "mongo2", "mongo3", "lb", "front")
        container_ports = (5432, 6432, 5672, 15672, 15999, 27017, 27018, 8080, 9000)
        self._snap = {s: ServiceInfo(s, "id-" + s, f"drills-test-{s}-1", "running", "Up", "healthy", None,
                                     dict.fromkeys(container_ports, port)) for s in services}

    def snapshot(self) -> dict[str, ServiceInfo]:
        return self._snap

    def defined_services(self) -> tuple[str, ...]:
        return tuple(self._snap)

    def credential(self, ref: Any) -> str:
        from tests.stand_ins import offline_credential

        return offline_credential(self, ref)


def context(definition: StackDefinition) -> SignalContext:
    return SignalContext(StandIn(definition), Ops(), time.monotonic, run="test")


# ---- PostgreSQL ---------------------------------------------------------------------------------


def test_postgres_signals_connect_as_the_stack_file_s_user_to_its_database():
    from drills.workload.signals.postgres_write import target

    found = target(context(reference_definition(postgres=ELSEWHERE["postgres"])))
    assert (found.user, found.dbname) == ("clerk", "ledger")
    assert "dbname=ledger" in found.conninfo() and "user=clerk" in found.conninfo()
    reference = target(context(reference_definition()))
    assert (reference.user, reference.dbname) == ("app", "app")  # what stacks/reference/stack.yaml says


def test_the_sql_port_is_the_stack_file_s():
    from drills.workload.signals.postgres_write import target

    stack = StandIn(reference_definition(postgres=ELSEWHERE["postgres"]))
    stack._snap = {s: replace(info, ports={5432: 1, 6432: 40000 + i})
                   for i, (s, info) in enumerate(stack._snap.items())}
    found = target(SignalContext(stack, Ops(), time.monotonic, run="test"))
    assert found.endpoints == (("127.0.0.1", 40000), ("127.0.0.1", 40001), ("127.0.0.1", 40002))


def test_postgres_signals_log_in_with_the_stack_file_s_app_login(monkeypatch):
    from drills.workload.signals.postgres_write import target

    monkeypatch.setenv("ORDERS_APP_PASSWORD", "orders-app-pw")
    users = {"app": {"user": "orders_app", "password": {"env": "ORDERS_APP_PASSWORD"}}}
    found = target(context(reference_definition(postgres={"users": users})))
    assert (found.user, found.password) == ("orders_app", "orders-app-pw")
    reference = context(reference_definition())
    assert target(reference).password == reference.stack.settings.secrets.app_password  # DRILLS_APP_PASSWORD


def test_a_refused_login_names_where_its_password_comes_from(monkeypatch):
    from drills.workload import postgres
    from drills.workload.signals.postgres_write import checked_target

    monkeypatch.setattr(postgres, "login_refusal", lambda t: f'password authentication failed for user "{t.user}"')
    monkeypatch.setenv("ORDERS_APP_PASSWORD", "wrong")
    users = {"app": {"user": "orders_app", "password": {"env": "ORDERS_APP_PASSWORD"}}}
    with pytest.raises(ScenarioError) as own:
        checked_target(context(reference_definition(postgres={"users": users})), "postgres.write")
    assert "{env: ORDERS_APP_PASSWORD} (users.app.password)" in str(own.value)
    assert "DRILLS_APP_PASSWORD" not in str(own.value)
    with pytest.raises(ScenarioError, match="DRILLS_APP_PASSWORD"):
        checked_target(context(reference_definition()), "postgres.write")


def test_status_reads_replication_as_the_stack_file_s_superuser(monkeypatch):
    from drills.components import _patroni_topology
    from drills.components import _postgres_cluster as postgres
    from drills.stack.topology import Legacy

    seen = []
    monkeypatch.setattr(postgres, "read_status", lambda rest, sql, user, password, *_: seen.append((user, password)))
    monkeypatch.setenv("ORDERS_DBA_PASSWORD", "dba-pw")
    users = {"superuser": {"user": "dba", "password": {"env": "ORDERS_DBA_PASSWORD"}}}
    stack = StandIn(reference_definition(postgres={"users": users}))
    _patroni_topology.read_status(Legacy(stack), stack.snapshot())  # type: ignore[arg-type]
    assert seen == [("dba", "dba-pw")]
    monkeypatch.delenv("ORDERS_DBA_PASSWORD")
    status = _patroni_topology.read_status(Legacy(stack), stack.snapshot())  # type: ignore[arg-type]
    assert status.error is not None and "components.postgres.users.superuser.password" in status.error


@pytest.mark.parametrize(("message", "refused"), [
    ('connection failed: connection to server at "127.0.0.1", port 5432 failed: FATAL:  database "ledger" does not '
     'exist', 'database "ledger" does not exist'),
    ('connection failed: connection to server at "127.0.0.1", port 5432 failed: FATAL:  role "clerk" does not exist',
     'role "clerk" does not exist'),
    ('connection to server at "127.0.0.1", port 5432 failed: FATAL:  password authentication failed for user "clerk"',
     'password authentication failed for user "clerk"'),
    ('connection to server at "127.0.0.1", port 5432 failed: Connection refused', None),
    ('connection to server at "127.0.0.1", port 5432 failed: timeout expired', None),
    # Another database's absence is not this target's refusal (a libpq message naming something else).
    ('FATAL:  database "app" does not exist', None),
])
def test_a_login_the_stack_refuses_for_good_is_told_from_a_node_that_is_down(message, refused):
    from drills.workload.postgres import PostgresTarget, refusal

    assert refusal(message, PostgresTarget((), "pw", user="clerk", dbname="ledger")) == refused


def test_a_node_that_does_not_answer_is_no_refusal():
    """At build time a node that is down is the warm-up's business, not the stack file's mistake."""
    from drills.workload.signals.postgres_write import checked_target

    found = checked_target(context(reference_definition(postgres=ELSEWHERE["postgres"])), "postgres.write")
    assert found.dbname == "ledger"


# ---- MongoDB ------------------------------------------------------------------------------------


def test_mongo_write_uses_the_stack_file_s_replica_set_user_and_database():
    from drills.workload.signals.mongo_write import MongoWriteSpec, target

    found = target(context(reference_definition(mongo=ELSEWHERE["mongo"])), MongoWriteSpec())
    opts = found.client_options()
    assert (opts["replicaSet"], opts["username"], opts["authSource"], found.database) == \
        ("prod-rs", "writer", "results", "results")


def test_mongo_backups_use_the_stack_file_s_replica_set_and_root_user():
    from drills.components._mongo_backup import _uri

    stack = StandIn(reference_definition(mongo=ELSEWHERE["mongo"]))
    uri = _uri(stack)  # type: ignore[arg-type]
    assert uri.startswith("mongodb://admin2:")
    assert "@mongo1:27018,mongo2:27018,mongo3:27018/" in uri
    assert uri.endswith("?replicaSet=prod-rs&authSource=admin")


# ---- HTTP behind the balancer ----------------------------------------------------------------------


def published_by(ports: dict[tuple[str, int], int]) -> Any:
    return lambda service, port: ("127.0.0.1", ports[(service, port)]) if (service, port) in ports else None


def test_http_signals_go_through_the_stack_file_s_balancer_and_port():
    from drills.workload.http import balancer

    definition = reference_definition(http=ELSEWHERE["http"])
    http = definition.spec.components.http
    target = balancer(published_by({("front", 9000): 41000, ("lb", 8080): 42000}), http, "http.dashboard",
                      definition.path)
    assert target.base_url == "http://127.0.0.1:41000"


def test_a_balancer_that_publishes_nothing_or_a_stack_without_one_is_a_clear_error():
    from drills.workload.http import balancer

    definition = reference_definition(http=ELSEWHERE["http"])
    with pytest.raises(HarnessError, match="the balancer `front` publishes no port 9000"):
        balancer(published_by({("lb", 8080): 42000}), definition.spec.components.http, "http.dashboard",
                 definition.path)
    with pytest.raises(ScenarioError, match=r"http.session: the stack file .*stack.yaml names no balancer"):
        balancer(published_by({}), None, "http.session", definition.path)


# ---- RabbitMQ's management API --------------------------------------------------------------------


def test_the_management_api_and_the_definitions_backup_log_in_as_the_stack_file_s_user():
    from drills.components._rabbitmq_definitions import Api
    from drills.components._rabbitmq_topology import management
    from drills.stack.topology import Legacy

    stack = StandIn(reference_definition(rabbitmq=ELSEWHERE["rabbitmq"]), port=3)
    assert management(Legacy(stack), stack.snapshot()).auth[0] == "bunny"  # type: ignore[arg-type]
    api = Api(stack)  # type: ignore[arg-type]
    assert api.auth[0] == "bunny"
    assert api.endpoints == [("127.0.0.1", 3)] * 3


# ---- RabbitMQ's signal queue ---------------------------------------------------------------------


def test_rabbitmq_publish_uses_the_stack_s_signal_queue_and_user():
    from drills.workload.signals.rabbitmq_publish import target

    queues = ["scheduled-runs", "notifications", "drill-events", "ops-drills"]
    found = target(context(reference_definition(rabbitmq={**ELSEWHERE["rabbitmq"], "queues": queues,
                                                          "signal_queue": "ops-drills"})))
    assert (found.queue, found.stack_queue, found.user, found.run) == ("ops-drills", True, "bunny", "test")


def test_without_a_signal_queue_drills_declares_its_own():
    from drills.workload.rabbitmq import QUEUE
    from drills.workload.signals.rabbitmq_publish import target

    found = target(context(reference_definition(rabbitmq={"signal_queue": None})))
    assert (found.queue, found.stack_queue) == (QUEUE, False)


def test_the_stack_s_queue_is_checked_passively_and_never_purged():
    from drills.workload.rabbitmq import QueueSetup

    own, stacks = QueueSetup("drill-events"), QueueSetup("ops-drills", passive=True)
    assert own.claim_purge(), "Drills' own queue is purged once per drill"
    assert not stacks.claim_purge(), "the stack's queue is never purged"


def test_a_broker_that_does_not_answer_is_no_missing_queue():
    """At build time no answer is the warm-up's business; only the broker's 404 is the stack file's
    mistake (tests/integration/test_signal_stack_objects.py has the broker say it)."""
    from drills.workload.signals.rabbitmq_publish import checked_target

    definition = reference_definition(rabbitmq={"queues": ["ops-drills"], "signal_queue": "ops-drills",
                                                "leader_queue": None})
    assert checked_target(context(definition)).queue == "ops-drills"
