"""RabbitMQ's boot trap, the pure parts: what makes an app queue unusable (`queue_problem`,
`leader_problem`, for quorum and classic queues), what the app declares, and reading the broker's
logs for the order of boot and declaration (tests/rabbit_logs.py)."""

from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ruamel.yaml import YAML

from drills.components._rabbitmq_api import BOOTED_CHECK, QUEUES, Queue, leader_problem, queue_problem
from drills.components._rabbitmq_topology import app_queues
from drills.stack.project import default_definition
from tests.rabbit_logs import booted_at, declared_too_early

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures" / "images" / "app"))

from drills_app import common as app

NODES = [f"rabbit@rabbit{i}" for i in range(1, 6)]
node_sets = st.sets(st.sampled_from(NODES), min_size=1)


def healthy(running: set[str]) -> Queue:
    members = tuple(sorted(running))
    return Queue("q", "quorum", members[0], members, members, 0)


@given(node_sets)
def test_a_queue_led_with_a_live_member_on_every_running_node_is_usable(running):
    assert queue_problem(healthy(running), running) is None


@given(st.sets(st.sampled_from(NODES), min_size=2), st.data())
def test_a_running_node_without_a_member_is_named(running, data):
    q = healthy(running)
    gone = data.draw(st.sets(st.sampled_from(sorted(running)), min_size=1, max_size=len(running) - 1))
    kept = tuple(m for m in q.members if m not in gone)
    q = Queue(q.name, q.type, kept[0], kept, kept, 0)
    problem = queue_problem(q, running)
    assert problem is not None and all(node in problem for node in gone)


@given(node_sets, st.data())
def test_a_member_without_its_raft_server_or_a_dead_leader_is_a_problem(running, data):
    """The state of a queue whose Raft servers were deleted under it: members listed, not online."""
    q = healthy(running)
    offline = data.draw(st.sets(st.sampled_from(q.members), min_size=1))
    online = tuple(m for m in q.members if m not in offline)
    leader = data.draw(st.sampled_from([None, *q.members]))
    problem = queue_problem(Queue(q.name, q.type, leader, q.members, online, None), running)
    assert problem is not None and all(node in problem for node in offline)


@given(node_sets)
def test_a_queue_without_a_leader_or_a_missing_one_is_a_problem(running):
    q = healthy(running)
    assert queue_problem(Queue(q.name, q.type, None, q.members, q.online, 0), running) == "no leader"
    assert queue_problem(None, running) == "not declared"
    assert leader_problem(None) == "not declared"


def classic(node: str, serving: bool) -> Queue:
    """A classic queue as parse_queues reads it: led by its node, online while it serves."""
    return Queue("q", "classic", node, (node,), (node,) if serving else (), 0)


@given(node_sets, st.data())
def test_a_classic_queue_on_a_running_node_that_serves_it_is_usable_without_members_elsewhere(running, data):
    node = data.draw(st.sampled_from(sorted(running)))
    assert queue_problem(classic(node, True), running) is None
    assert leader_problem(classic(node, True)) is None


@given(node_sets, st.sampled_from(NODES))
def test_a_classic_queue_whose_node_is_down_or_not_serving_is_a_problem_naming_it(running, node):
    problem = queue_problem(classic(node, node in running), running)
    assert (problem is None) == (node in running)
    assert problem is None or node in problem
    assert node in (queue_problem(classic(node, False), running) or "")
    assert node in (leader_problem(classic(node, False)) or "")


@given(node_sets, st.data())
def test_after_a_fault_a_live_leader_is_enough_and_a_leader_whose_member_is_offline_is_not(running, data):
    q = healthy(running)
    assert leader_problem(q) is None
    online = tuple(m for m in q.online if m != q.leader)
    assert leader_problem(Queue(q.name, q.type, q.leader, q.members, online, 0)) == "no live leader"
    assert leader_problem(Queue(q.name, q.type, None, q.members, q.online, 0)) == "no live leader"


def test_the_app_asks_the_same_question_as_drill_before_it_declares():
    assert app.BOOTED_CHECK == BOOTED_CHECK
    assert app.QUEUES == QUEUES  # what readiness waits for is what the app declares
    assert "drill-events" in app.QUEUES
    assert app.DECLARE_TIMEOUT_S > 15  # RabbitMQ's own wait inside a quorum queue declaration


def test_readiness_waits_for_the_queues_the_stack_file_says_its_application_declares():
    reference = default_definition()
    assert app_queues(SimpleNamespace(definition=reference)) == QUEUES == app.QUEUES
    components = reference.spec.components.model_copy(update={"rabbitmq": None})
    bare = dataclasses.replace(reference, spec=reference.spec.model_copy(update={"components": components}))
    assert app_queues(SimpleNamespace(definition=bare)) == ()  # never the reference stack's by default


def test_the_app_declares_its_queues_of_the_type_the_operator_chose(monkeypatch):
    monkeypatch.setenv("DRILLS_AMQP_HOSTS", "10.0.0.1,10.0.0.2")
    monkeypatch.setenv("DRILLS_AMQP_PASSWORD", "p")
    monkeypatch.delenv("DRILLS_QUEUE_TYPE", raising=False)
    assert app.Amqp.from_env().queue_arguments == {"x-queue-type": "quorum"}
    monkeypatch.setenv("DRILLS_QUEUE_TYPE", "classic")
    assert app.Amqp.from_env().queue_arguments == {"x-queue-type": "classic"}
    monkeypatch.setenv("DRILLS_QUEUE_TYPE", "stream")  # a stream is not a work queue: refused at start
    with pytest.raises(SystemExit, match="quorum, classic"):
        app.Amqp.from_env()


def test_the_compose_file_gives_every_app_service_the_apps_default_queue_type():
    compose = YAML(typ="safe").load((Path(__file__).resolve().parents[2] / "docker-compose.ha.yml").read_text())
    value = compose["x-app-env"]["DRILLS_QUEUE_TYPE"]
    default = re.fullmatch(r"\$\{DRILLS_QUEUE_TYPE:-(\w+)\}", value)
    assert default is not None and default.group(1) == app.DEFAULT_QUEUE_TYPE
    for name in ("scheduler", "worker1", "worker2", "mailer"):  # the services that declare
        assert compose["services"][name]["environment"]["DRILLS_QUEUE_TYPE"] == value


# Lines of a boot that lost `notifications` here (RabbitMQ 3.10.8, container logs, shortened):
# rabbit2 took a member while still loading its tables and crashed as the first leader.
LOGGED = ("scheduled-runs", "notifications")  # the app's queues on the stack of that boot
LOST = {
    "rabbit1": """\
2026-11-27 14:23:17.165671+00:00 [notice] <0.558.0> queue 'scheduled-runs' in vhost '/': candidate -> leader in term: 1
2026-11-27 14:23:17.175026+00:00 [info] <0.553.0> ra: started cluster %2F_scheduled-runs with 3 servers
2026-11-27 14:23:17.820476+00:00 [info] <0.587.0> queue 'notifications' in vhost '/': leader call - leader not known.
2026-11-27 14:23:20.661961+00:00 [info] <0.792.0> started TCP listener on [::]:5672
""",
    "rabbit2": """\
2026-11-27 14:23:17.160504+00:00 [info] <0.327.0> queue 'scheduled-runs' in vhost '/': leader call - leader not known.
\x1b[38;5;87m2026-11-27 14:23:17.883624+00:00 [notice] <0.342.0> queue 'notifications' in vhost '/': \
candidate -> leader\x1b[0m
\x1b[38;5;160m2026-11-27 14:23:17.885285+00:00 [error] <0.342.0> ** Reason for termination = error:badarg\x1b[0m
2026-11-27 14:23:32.664303+00:00 [info] <0.727.0> started TCP listener on [::]:5672
\x1b[38;5;214m2026-11-27 14:23:32.897116+00:00 [warning] <0.337.0> ra: failed to form new cluster \
'%2F_notifications'.\x1b[0m
""",
    "rabbit3": """\
2026-11-27 14:23:00.773839+00:00 [info] <0.875.0> started TCP listener on [::]:5672
2026-11-27 14:23:01.573922+00:00 [error] <0.904.0> operation queue.declare caused a channel exception not_found: \
no queue 'scheduled-runs' in vhost '/'
2026-11-27 14:23:17.877594+00:00 [info] <0.1798.0> queue 'notifications' in vhost '/': \
granting vote for {'%2F_notifications',rabbit@rabbit2}
""",
}


def test_a_queue_declared_while_nodes_still_booted_is_caught_in_the_logs():
    assert str(booted_at(LOST["rabbit2"])) == "2026-11-27 14:23:32.664303"
    assert declared_too_early(LOST, LOGGED) == [
        "scheduled-runs: declared at 14:23:17.160504, before rabbit1, rabbit2 finished booting",
        "notifications: declared at 14:23:17.820476, before rabbit1, rabbit2 finished booting",
    ]


def test_declarations_after_every_boot_pass_and_missing_evidence_fails():
    later = {node: log.replace("14:23:17.", "14:23:47.") for node, log in LOST.items()}
    assert declared_too_early(later, LOGGED) == []
    # A refused passive declaration is not a declaration, and no listener line is no proof of a boot.
    only_refusals = {"rabbit3": LOST["rabbit3"].splitlines()[1]}
    assert declared_too_early(only_refusals, LOGGED) == [
        "no `started TCP listener on [::]:5672` in the log of rabbit3",
        "scheduled-runs: no Raft server in any log",
        "notifications: no Raft server in any log",
    ]
