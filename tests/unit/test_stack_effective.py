"""The effective configuration: parsing what a live stack answered (recorded under
fixtures/effective/), the words shown for it, and failing closed: a part that cannot be read is
NOT READ with why, never left out or empty."""

from __future__ import annotations

import http.server
import ipaddress
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drills.components._haproxy_effective import read_balancer
from drills.components._patroni_effective import parse_patroni, read_postgres
from drills.components._pg_settings import parse_pg_settings
from drills.components._rabbitmq_effective import parse_partition_handling, parse_rabbitmq
from drills.core.effective_config import ABSENT, NOT_READ, READ, EffectiveConfig, Part, changes, fingerprint
from drills.stack import loadbalancer
from drills.stack.definition import RoleMap, StackDefinition
from drills.stack.effective import instances, read_effective
from drills.stack.effective_text import PARTS, lines, part_text
from drills.stack.env import Secrets, StackSettings
from drills.stack.project import default_definition
from drills.stack.services import ServiceInfo
from drills.stack.topology import Legacy
from tests.stand_ins import reference_roles

FIXTURES = Path(__file__).parent / "fixtures" / "effective"
REFERENCE = default_definition()


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def closed_port() -> int:
    """A port of 127.0.0.1 where nothing listens (it was free a moment ago)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def service(name: str, ports: dict[int, int], state: str = "running", image: str = "") -> ServiceInfo:
    return ServiceInfo(name, "id-" + name, f"drills-test-{name}-1", state, "Up", "healthy", None, ports,
                       image=image, image_id="sha256:0123456789abcdef" if image else "")


class StandInStack:
    """A stack as `read_effective` sees it: its containers (published where the test says), the
    services Compose defines, the reference stack's file and role map, and no Docker engine
    (nothing here may need one)."""

    def __init__(self, snap: dict[str, ServiceInfo], defined: tuple[str, ...] | None = None,
                 left_out: dict[str, str] | None = None) -> None:
        self.settings = StackSettings("drills-test", ipaddress.IPv4Network("172.30.9.0/24"), {}, Secrets.generate(),
                                      left_out={"mongo": "image mongo:7 absent"} if left_out is None else left_out,
                                      roles=reference_roles())
        self._snap = snap
        self._defined = defined

    @property
    def definition(self) -> StackDefinition:
        return REFERENCE

    @property
    def client(self) -> Any:
        raise OSError("no Docker engine in unit tests")

    def snapshot(self) -> dict[str, ServiceInfo]:
        return self._snap

    def credential(self, ref: Any) -> str:
        from tests.stand_ins import offline_credential

        return offline_credential(self, ref)

    def defined_services(self) -> tuple[str, ...]:
        if self._defined is None:
            raise OSError("docker compose config failed: no such file")
        return self._defined


# ---- parsing recorded answers ------------------------------------------------------------------

def test_patroni_config_cluster_and_node():
    settings, state = parse_patroni(fixture("patroni-config.json"), fixture("patroni-cluster.json"),
                                    fixture("patroni-patroni.json"))
    patroni = settings["patroni"]
    assert patroni["synchronous_mode"] is True and patroni["ttl"] == 10 and patroni["loop_wait"] == 2
    assert patroni["retry_timeout"] == 3 and patroni["maximum_lag_on_failover"] == 1048576
    # Not in the DCS: Patroni's default, and said so.
    assert patroni["synchronous_mode_strict"] is False and "synchronous_mode_strict" in settings["patroni_defaults"]
    assert "ttl" not in settings["patroni_defaults"]
    assert settings["postgresql"] == {"use_pg_rewind": True, "use_slots": True}
    assert settings["dcs_parameters"]["wal_keep_size"] == "128MB"
    assert settings["patroni_version"] == "3.0.2" and len(state["members"]) == 3
    assert state["leader"] == "pg1"
    assert [(m["name"], m["role"]) for m in state["members"]] == [("pg1", "leader"), ("pg2", "sync_standby"),
                                                                  ("pg3", "replica")]


def test_patroni_without_its_node_answer_has_no_version_and_an_empty_dcs_is_all_defaults():
    settings, state = parse_patroni({}, {}, None)
    assert "patroni_version" not in settings
    assert settings["patroni"]["synchronous_mode"] is False and settings["patroni"]["ttl"] == 30
    assert "synchronous_mode" in settings["patroni_defaults"] and state["members"] == []
    assert state["leader"] is None


def test_pg_settings_rows_with_units_and_the_moving_standby_name_apart():
    rows = [("max_wal_senders", "10", ""), ("synchronous_commit", "on", ""), ("synchronous_standby_names", "pg2", ""),
            ("wal_keep_size", "128", "MB"), ("server_version", "15.18 (Debian 15.18-0+deb12u1)", None)]
    settings, state = parse_pg_settings(rows)
    assert settings["synchronous_commit"] == "on" and settings["wal_keep_size"] == "128MB"
    assert settings["server_version"].startswith("15.18")
    assert state == {"synchronous_standby_names": "pg2"} and "synchronous_standby_names" not in settings


def test_rabbitmq_overview_nodes_and_queues():
    settings, state, gaps = parse_rabbitmq(fixture("rabbitmq-overview.json"), fixture("rabbitmq-nodes.json"),
                                           fixture("rabbitmq-queues.json"))
    assert settings["version"] == "3.10.8" and settings["erlang"] == "25.2.3"
    assert settings["nodes"] == ["rabbit1", "rabbit2", "rabbit3"] and settings["net_ticktime_s"] == 10
    queues = settings["queues"]
    assert sorted(queues) == ["notifications", "scheduled-runs"]
    assert {q["type"] for q in queues.values()} == {"quorum"} and {q["members"] for q in queues.values()} == {3}
    assert queues["scheduled-runs"]["arguments"] == {"x-queue-type": "quorum"}
    assert state["queues"]["scheduled-runs"]["leader"] == "rabbit1"
    assert state["running"] == ["rabbit1", "rabbit2", "rabbit3"] and gaps == {}


def test_rabbitmq_what_the_api_did_not_give_is_not_read_and_differing_ticks_are_kept_per_node():
    nodes = [{"name": "rabbit@rabbit1", "running": True, "net_ticktime": 10},
             {"name": "rabbit@rabbit2", "running": False, "net_ticktime": 60}]
    queues = [{"name": "legacy", "type": "classic", "node": "rabbit@rabbit1", "durable": True, "arguments": {}}]
    settings, state, gaps = parse_rabbitmq({}, nodes, queues)
    assert settings["net_ticktime_s"] == {"rabbit1": 10, "rabbit2": 60}
    assert set(gaps) == {"version", "erlang"} and "version" not in settings
    assert settings["queues"]["legacy"]["type"] == "classic" and settings["queues"]["legacy"]["members"] is None
    assert "legacy classic (on rabbit1)" in part_text("rabbitmq", Part(READ, settings=settings, state=state))
    assert state["queues"]["legacy"]["leader"] == "rabbit1" and state["running"] == ["rabbit1"]
    _, _, gaps = parse_rabbitmq({"rabbitmq_version": "3.10.8", "erlang_version": "25"}, [{"name": "rabbit@a"}], [])
    assert "net_ticktime_s" in gaps


CONF = "/etc/rabbitmq/rabbitmq.conf"


@pytest.mark.parametrize(("files", "value", "where"), [
    ({CONF: "loopback_users = none\ncluster_partition_handling = pause_minority\n"}, "pause_minority", CONF),
    ({CONF: "cluster_partition_handling = ignore\n  cluster_partition_handling=autoheal\n"}, "autoheal", CONF),
    ({CONF: "# cluster_partition_handling = autoheal\nloopback_users = none\n"}, "ignore",
     f"RabbitMQ's default (not set in {CONF})"),
    ({}, None, "no configuration file"),
    ({CONF: "", "/etc/rabbitmq/advanced.config": "[{rabbit, [{cluster_partition_handling, ignore}]}]."}, None, None),
])
def test_partition_handling_from_the_files_a_node_booted_with(files, value, where):
    if value is None:
        with pytest.raises(ValueError, match=where or r"advanced\.config .* not parsed"):
            parse_partition_handling(files)
    else:
        assert parse_partition_handling(files) == (value, where)


def test_balancer_backends_from_haproxy_stats():
    backends = loadbalancer.parse_stats((FIXTURES / "haproxy-stats.csv").read_text(), "dashboards")
    assert [(b.server, b.status) for b in backends] == [("dashboard1", "UP"), ("dashboard2", "UP")]


def test_instances_per_role_defined_and_running_with_their_images():
    snap = {"pg1": service("pg1", {}, image="drills/patroni:1"),
            "pg2": service("pg2", {}, "exited", "drills/patroni:1"),
            "dashboard1": service("dashboard1", {}, image="drills/app:1"), "lb": service("lb", {}, image="haproxy")}
    part = instances(("pg1", "pg2", "pg3", "dashboard1", "dashboard2", "lb"), snap, reference_roles())
    assert part.status == READ
    # the reference stack's roles: the balancer lb is also what its http component drives
    assert part.settings["defined"] == {"balancer": 1, "dashboard": 2, "http": 1, "postgres": 3}
    assert part.state["running"] == {"balancer": 1, "dashboard": 1, "http": 1, "postgres": 1}
    assert part.settings["images"]["drills/patroni:1 (0123456789ab)"] == ["pg1", "pg2"]
    text = part_text("instances", part)
    assert "postgres 3 (1 running)" in text and "balancer 1" in text and "drills/patroni:1 (0123456789ab) x2" in text


def test_instances_whose_compose_definition_cannot_be_read_say_so():
    part = instances(None, {"pg1": service("pg1", {}), "extra7": service("extra7", {})}, reference_roles(),
                     "docker compose config: exit 1")
    assert part.settings["defined"] == {"postgres": None, "extra7": None}
    assert part.not_read == {"defined": "docker compose config: exit 1"}
    text = part_text("instances", part)
    assert "extra7 1 running, postgres 1 running" in text and "defined not read: docker compose config" in text


# ---- the record and its words ------------------------------------------------------------------

def reference_config() -> EffectiveConfig:
    pg_settings, pg_state = parse_patroni(fixture("patroni-config.json"), fixture("patroni-cluster.json"),
                                          fixture("patroni-patroni.json"))
    pg_settings["pg_settings"] = {"server_version": "15.18 (Debian)", "synchronous_commit": "on"}
    rq_settings, rq_state, _ = parse_rabbitmq(fixture("rabbitmq-overview.json"), fixture("rabbitmq-nodes.json"),
                                              fixture("rabbitmq-queues.json"))
    rq_settings["cluster_partition_handling"] = "pause_minority"
    return EffectiveConfig({
        "postgres": Part(READ, settings=pg_settings, state=pg_state),
        "rabbitmq": Part(READ, settings=rq_settings, state=rq_state),
        "mongo": Part(ABSENT, reason="image mongo:7 absent"),
        "balancer": Part(READ, settings={"balancer": "lb", "backend": "dashboards",
                                         "servers": ["dashboard1", "dashboard2"]},
                         state={"backends": {"dashboard1": "UP", "dashboard2": "DOWN"}}),
        "instances": Part(NOT_READ, reason="docker: connection refused"),
    }, read_s=0.42, stack={"name": "api-fortress-ha", "file": "/src/stacks/reference/stack.yaml",
                           "compose_files": ["/src/docker-compose.ha.yml", "/src/sync-off.yml"]})


def test_the_words_hold_every_value_a_reader_needs():
    text = dict(lines(reference_config()))
    assert list(text) == ["Stack", "PostgreSQL", "RabbitMQ", "MongoDB", "Balancer", "Instances"]
    assert text["Stack"] == ("api-fortress-ha (/src/stacks/reference/stack.yaml); Compose files "
                             "/src/docker-compose.ha.yml, /src/sync-off.yml")
    pg = text["PostgreSQL"]
    for piece in ("PostgreSQL 15.18", "Patroni 3.0.2", "3 members", "synchronous_mode on",
                  "synchronous_mode_strict off (Patroni default)", "synchronous_commit on", "ttl 10 s",
                  "loop_wait 2 s", "retry_timeout 3 s", "leader pg1", "sync_standby pg2"):
        assert piece in pg, (piece, pg)
    rq = text["RabbitMQ"]
    for piece in ("RabbitMQ 3.10.8", "net_ticktime 10 s", "cluster_partition_handling pause_minority",
                  "scheduled-runs quorum (3 members, leader rabbit1)", "notifications quorum (3 members"):
        assert piece in rq, (piece, rq)
    assert text["Balancer"] == "lb, backend dashboards: dashboard1 UP, dashboard2 DOWN"
    assert text["MongoDB"] == "absent: image mongo:7 absent"
    assert text["Instances"] == "NOT READ: docker: connection refused"


def test_the_json_round_trip_keeps_everything_and_a_missing_part_is_not_read():
    config = reference_config()
    doc = json.loads(json.dumps(config.to_json()))
    assert EffectiveConfig.from_json(doc) == config
    del doc["parts"]["rabbitmq"]
    assert EffectiveConfig.from_json(doc).part("rabbitmq") == Part(NOT_READ, reason="not recorded")
    nothing = EffectiveConfig.from_json(None)
    assert all(text.startswith("NOT READ") for _, text in lines(nothing))


def test_a_part_in_a_shape_this_version_cannot_show_is_not_read():
    assert part_text("postgres", Part(READ, settings={"patroni": "garbled"})).startswith("NOT READ")


def test_mongo_members_and_version_in_words():
    part = Part(READ, settings={"replica_set": "rs0", "members": 3, "version": "7.0.14"},
                state={"primary": "mongo1", "members": [{"member": "mongo1", "state": "PRIMARY"},
                                                        {"member": "mongo2", "state": "SECONDARY"}]})
    assert part_text("mongo", part) == "MongoDB 7.0.14, replica set rs0 of 3 members: PRIMARY mongo1, SECONDARY mongo2"


# ---- what changed between two reads ------------------------------------------------------------

json_leaf = st.one_of(st.booleans(), st.integers(-5, 5), st.text(max_size=4), st.none())
settings_st = st.dictionaries(st.sampled_from(["ttl", "type", "queues", "mode"]),
                              st.one_of(json_leaf, st.dictionaries(st.sampled_from(["a", "b"]), json_leaf)),
                              max_size=4)


@given(settings_st, settings_st)
def test_changes_are_exactly_the_settings_that_differ(a, b):
    before = EffectiveConfig({"postgres": Part(READ, settings=a)})
    after = EffectiveConfig({"postgres": Part(READ, settings=b)})
    found = changes(before, after)
    assert (found == []) == (a == b)
    assert changes(before, before) == []


def test_the_fingerprint_is_the_configuration_alone():
    a = reference_config()
    moved = EffectiveConfig({**a.parts, "balancer": Part(READ, settings=a.part("balancer").settings,
                                                         state={"backends": {"dashboard1": "DOWN"}})},
                            read_s=9.0, stack=a.stack)
    assert fingerprint(moved) == fingerprint(a), "state and timing are not configuration"
    unread = EffectiveConfig({**a.parts, "mongo": Part(NOT_READ, reason="timed out")}, stack=a.stack)
    assert fingerprint(unread) != fingerprint(a)
    overridden = EffectiveConfig(a.parts, stack={**a.stack, "compose_files": ["/src/other.yml"]})
    assert fingerprint(overridden) != fingerprint(a)


def test_state_is_not_a_change_and_an_unread_side_is_unknown_not_unchanged():
    a = reference_config()
    moved = EffectiveConfig({**a.parts, "postgres": Part(READ, settings=a.part("postgres").settings,
                                                         state={"leader": "pg2"})})
    assert changes(a, moved) == []
    classic = json.loads(json.dumps(a.to_json()))
    classic["parts"]["rabbitmq"]["settings"]["queues"]["scheduled-runs"]["type"] = "classic"
    assert changes(a, EffectiveConfig.from_json(classic)) == [
        "rabbitmq.queues.scheduled-runs.type: 'quorum' -> 'classic'"]
    assert "instances" not in " ".join(changes(a, a))  # not read at both ends: nothing claimed


# ---- failing closed against a real stand-in --------------------------------------------------

@pytest.fixture()
def patroni_rest() -> Iterator[int]:
    """Patroni's REST API as the live stack answered it, from the recorded files."""
    answers = {"/config": "patroni-config.json", "/cluster": "patroni-cluster.json", "/patroni": "patroni-patroni.json"}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            name = answers.get(self.path)
            body = (FIXTURES / name).read_bytes() if name else b"{}"
            self.send_response(200 if name else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def test_patroni_read_over_http_and_an_unreachable_leader_leaves_its_settings_not_read(patroni_rest):
    snap = {"pg1": service("pg1", {8008: patroni_rest, 5432: closed_port()})}
    part = read_postgres(Legacy(StandInStack(snap)), snap, timeout_s=2)
    assert part.status == READ and part.settings["patroni"]["synchronous_mode"] is True
    assert part.state["read_from"] == "pg1" and "pg_settings" not in part.settings
    assert "pg_settings on pg1" in part.not_read["pg_settings"]
    assert "pg_settings not read: pg_settings on pg1" in part_text("postgres", part)


def test_every_part_of_an_unreachable_stack_is_not_read_with_why():
    port = closed_port()
    names = ("pg1", "pg2", "rabbit1", "lb", "dashboard1")
    ports = {"pg1": {8008: port, 5432: port}, "pg2": {8008: port}, "rabbit1": {15672: port, 5672: port},
             "lb": {8080: port}, "dashboard1": {8080: port}}
    snap = {name: service(name, ports[name]) for name in names}
    config = read_effective(StandInStack(snap, defined=(*names, "pg3")), timeout_s=1)
    parts = config.parts
    assert set(parts) == set(PARTS), "no part is ever left out"
    assert parts["postgres"].status == NOT_READ and "no Patroni REST API answered" in parts["postgres"].reason
    assert parts["rabbitmq"].status == NOT_READ and "management API" in parts["rabbitmq"].reason
    assert parts["balancer"].status == NOT_READ and "HAProxy's stats" in parts["balancer"].reason
    assert parts["mongo"] == Part(ABSENT, reason="image mongo:7 absent")
    assert parts["instances"].settings["defined"]["postgres"] == 3
    assert config.read_s is not None and config.read_s < 10
    assert config.stack["name"] == "api-fortress-ha" and config.stack["compose_files"][0].endswith(".yml")


def test_a_component_defined_but_without_containers_is_not_read_not_absent():
    snap = {"lb": service("lb", {8080: closed_port()}, state="exited")}
    config = read_effective(StandInStack(snap, defined=("pg1", "pg2", "rabbit1", "lb")), timeout_s=1)
    assert config.part("postgres").status == NOT_READ and "pg1, pg2" in config.part("postgres").reason
    assert config.part("rabbitmq").status == NOT_READ
    assert config.part("balancer").status == NOT_READ and "not running" in config.part("balancer").reason


def test_a_stack_whose_compose_definition_and_containers_cannot_be_read():
    class Gone(StandInStack):
        def snapshot(self) -> dict[str, ServiceInfo]:
            raise OSError("Cannot connect to the Docker daemon")

    config = read_effective(Gone({}))
    assert {p.status for p in config.parts.values()} == {NOT_READ}
    assert all("Cannot connect to the Docker daemon" in p.reason for p in config.parts.values())
    alone = read_effective(StandInStack({"dashboard1": service("dashboard1", {})}, defined=None), timeout_s=1)
    assert "docker compose config" in alone.part("instances").not_read["defined"]
    assert alone.part("postgres").status == ABSENT and alone.part("balancer").status == ABSENT


def test_an_unreachable_balancer_is_not_read_with_where_it_was_asked():
    port = closed_port()
    http = REFERENCE.spec.components.http
    part = read_balancer({"lb": service("lb", {8080: port})}, http, timeout_s=1)
    assert part.status == NOT_READ and f"127.0.0.1:{port}" in part.reason
    assert read_balancer({}, None).reason == "the stack file declares no balancer (no http component)"


def test_instances_of_a_stack_without_a_role_map_count_by_name():
    part = instances(("pg1", "pg2", "lb"), {}, RoleMap())
    assert part.settings["defined"] == {"pg": 2, "lb": 1}


def test_a_replica_set_that_does_not_answer_is_not_read_and_one_left_out_is_absent():
    snap = {"mongo1": service("mongo1", {27017: closed_port()})}
    part = read_effective(StandInStack(snap, defined=("mongo1",), left_out={}), timeout_s=1).part("mongo")
    assert part.status == NOT_READ and "mongo1" in part.reason, part
    left_out = read_effective(StandInStack({}, defined=(), left_out={"mongo": "image mongo:7 absent"}), timeout_s=1)
    assert left_out.part("mongo") == Part(ABSENT, reason="image mongo:7 absent")


def test_an_item_not_read_at_one_end_is_not_compared_not_claimed_changed():
    """A RabbitMQ node whose statistics were not in when the drill began: its partition handling
    NOT READ then, read at the end. Unknown before is no change; it is listed as not compared."""
    from drills.core.effective_config import compared

    a = reference_config()
    rabbit = a.part("rabbitmq")
    early = {k: v for k, v in rabbit.settings.items() if k != "cluster_partition_handling"}
    began = EffectiveConfig({**a.parts, "rabbitmq": Part(READ, settings=early, state=rabbit.state, not_read={
        "cluster_partition_handling": "not in the management API"})}, stack=a.stack)
    assert "cluster_partition_handling" in rabbit.settings
    assert changes(began, a) == []
    report = compared(began, a)
    assert report["changes"] == []
    assert report["not_compared"]["rabbitmq.cluster_partition_handling"] == "not in the management API"
    other = json.loads(json.dumps(a.to_json()))
    other["parts"]["rabbitmq"]["settings"]["queues"]["scheduled-runs"]["type"] = "classic"
    assert changes(began, EffectiveConfig.from_json(other)) == [
        "rabbitmq.queues.scheduled-runs.type: 'quorum' -> 'classic'"], "what was read at both ends is still compared"
