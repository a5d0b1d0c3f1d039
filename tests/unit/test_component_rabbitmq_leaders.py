"""The RabbitMQ queue-leader rounds (drills.components._rabbitmq_leaders), sampled by a
`RoundsSampler` on stand-in management APIs: what each node answers is read
into the leaders of `rabbitmq@<queue>`, recorded only when they change; a node that does not answer
says nothing, and nobody naming a leader is `leaders: []`. Its events are what the failover checker
reads (the same component key)."""

from __future__ import annotations

import ipaddress
import itertools
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pytest

from drills.checkers.failover import check_failover, sampled_as
from drills.checkers.verdict import Status
from drills.components._rabbitmq_api import MANAGEMENT_PORT, Queue, parse_queues
from drills.components._rabbitmq_leaders import QueueLeaderRounds, node_apis, node_views, queue_of_subject
from drills.components._rabbitmq_spec import RabbitmqSpec
from drills.core.history import Event
from drills.sampling.leaders import RoundsSampler, start_samplers
from drills.stack.env import Secrets, StackSettings
from drills.stack.services import ServiceInfo
from tests.stand_ins import reference_definition, reference_roles

QUEUE = "drill-events"
KEY = "rabbitmq@drill-events"


def doc(leader: str | None, queue: str = QUEUE) -> list[dict[str, Any]]:
    """`GET /api/queues/%2F` as RabbitMQ 3.10 answers it for a quorum queue (and a classic one)."""
    members = ["rabbit@rabbit1", "rabbit@rabbit2", "rabbit@rabbit3"]
    return [{"name": queue, "type": "quorum", "leader": leader, "members": members,
             "online": [m for m in members if m != leader] + ([leader] if leader else []), "messages": 3},
            {"name": "notifications", "type": "classic", "node": "rabbit@rabbit3", "state": "running"}]


class StandInApi:
    """One node's management API: answers its script, one entry per round (an exception: raised)."""

    def __init__(self, script: list[list[dict[str, Any]] | OSError | None]) -> None:
        self.script = iter(script)
        self.timeouts: list[float] = []

    def queues(self, *, timeout_s: float) -> list[Queue]:
        self.timeouts.append(timeout_s)
        answer = next(self.script)
        if isinstance(answer, OSError):
            raise answer
        return parse_queues(answer)  # None: a body that was not JSON (parse_queues cannot read it)


class StandInStack:
    """The reference stack's RabbitMQ services as the engine lists them; `paused` ones are frozen."""

    def __init__(self, paused: tuple[str, ...] = (), port: int = 41000) -> None:
        self.settings = StackSettings("drills-test", ipaddress.IPv4Network("172.30.9.0/24"), {}, Secrets.generate(),
                                      roles=reference_roles())
        self.definition = reference_definition()
        self._snap = {name: ServiceInfo(name, "id-" + name, f"drills-test-{name}-1",
                                        "paused" if name in paused else "running", "Up", "healthy", None,
                                        {MANAGEMENT_PORT: port + i})
                      for i, name in enumerate(("rabbit1", "rabbit2", "rabbit3"))}

    def snapshot(self) -> dict[str, ServiceInfo]:
        return self._snap


def run(script: Mapping[str, list[Any]], rounds: int) -> tuple[list[Event], dict[str, StandInApi]]:
    """`rounds` rounds of a sampler over stand-in APIs (a node absent from a round's apis: not
    running), then its closing sample; the events it recorded."""
    apis = {node: StandInApi(answers) for node, answers in script.items()}
    events: list[Event] = []
    clock = itertools.count()
    leaders = QueueLeaderRounds(StandInStack(), [QUEUE], apis=lambda snap: apis)
    sampler = RoundsSampler(leaders, lambda name, at, **data: events.append(Event(name, at, data)),
                            lambda: float(next(clock)))
    for _ in range(rounds):
        sampler.sample()
    sampler.finish()
    return events, apis


def test_a_leader_change_is_recorded_once_with_the_service_names_and_who_said_what():
    script = {"rabbit1": [doc("rabbit@rabbit2"), doc("rabbit@rabbit2"), doc("rabbit@rabbit3"), doc("rabbit@rabbit3")],
              "rabbit3": [doc("rabbit@rabbit2"), doc("rabbit@rabbit2"), doc("rabbit@rabbit3"), doc("rabbit@rabbit3")]}
    events, apis = run(script, 4)
    assert [(e.data["leaders"], e.data.get("final", False)) for e in events] == [
        (["rabbit2"], False), (["rabbit3"], False), (["rabbit3"], True)]
    assert {e.name for e in events} == {"leaders"} and {e.data["component"] for e in events} == {KEY}
    assert events[1].data["views"] == {"rabbit1": "rabbit3", "rabbit3": "rabbit3"}
    assert all(t == 5.0 for api in apis.values() for t in api.timeouts)  # longer than a partitioned cluster's answers


def test_a_node_that_does_not_answer_says_nothing_and_nobody_answering_is_no_leader():
    timeout = TimeoutError("timed out")
    script = {"rabbit1": [doc("rabbit@rabbit1"), timeout, None, doc("rabbit@rabbit2")],  # None: not JSON
              "rabbit2": [doc("rabbit@rabbit1"), timeout, doc("rabbit@rabbit2"), doc("rabbit@rabbit2")]}
    events, _ = run(script, 4)
    assert [e.data["leaders"] for e in events] == [["rabbit1"], [], ["rabbit2"], ["rabbit2"]]
    assert events[1].data["views"] == {} and events[1].data["asked"] == ["rabbit1", "rabbit2"]
    assert events[2].data["views"] == {"rabbit2": "rabbit2"}


def test_a_queue_without_a_leader_or_not_declared_is_no_leader():
    assert node_views({"rabbit1": parse_queues(doc(None))}, QUEUE) == {"rabbit1": None}
    assert node_views({"rabbit1": parse_queues(doc("rabbit@rabbit1", queue="other"))}, QUEUE) == {"rabbit1": None}
    events, _ = run({"rabbit1": [doc(None)]}, 1)
    assert events[0].data["leaders"] == []


def test_a_cut_off_node_naming_itself_and_the_majority_naming_another_are_both_recorded():
    """A partitioned node answers the host with its stale view until pause_minority pauses it: the
    sampler records both names, and the checker counts the majority's new leader as the takeover."""
    script = {"rabbit1": [doc("rabbit@rabbit1")] * 3 + [OSError("refused")] * 2,
              "rabbit2": [doc("rabbit@rabbit1"), doc("rabbit@rabbit1"), doc("rabbit@rabbit2"),
                          doc("rabbit@rabbit2"), doc("rabbit@rabbit2")]}
    sampled, _ = run(script, 5)
    assert [e.data["leaders"] for e in sampled] == [["rabbit1"], ["rabbit1", "rabbit2"], ["rabbit2"], ["rabbit2"]]
    fault = [Event("inject", 0.5, {}), Event("fault", 0.6, {"kind": "partition", "resolved": ["rabbit1"]})]
    v = check_failover(sampled + fault, sampled_as("rabbitmq", QUEUE))
    assert v.status is Status.PASS, v.observed
    assert v.measured["took_over"] == "rabbit2" and v.measured["hit"] == ["rabbit1"]


def test_each_running_node_is_asked_at_its_own_endpoint_with_the_stack_files_user():
    stack = StandInStack(paused=("rabbit2",))
    apis = node_apis(stack, stack.snapshot())
    assert sorted(apis) == ["rabbit1", "rabbit3"]  # a paused (frozen) container is not asked
    assert apis["rabbit3"].endpoints == [("127.0.0.1", 41002)]  # that node alone: its own answer
    user = stack.definition.component("rabbitmq", RabbitmqSpec).user
    assert apis["rabbit1"].auth == (user, stack.settings.secrets.app_password)


def test_the_runner_starts_a_sampler_for_what_the_expectations_name():
    assert queue_of_subject(KEY) == QUEUE and queue_of_subject("postgres") is None
    assert queue_of_subject("rabbitmq@") is None
    assert start_samplers(StandInStack(), lambda *a, **k: None, float, frozenset()) == []
    with pytest.raises(ValueError, match="mongo"):
        start_samplers(StandInStack(), lambda *a, **k: None, float, frozenset({"mongo"}))


def test_a_started_queue_sampler_records_no_leader_when_no_node_answers():
    """Through the real management client, at ports where nothing listens: refused is no leader."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])  # free a moment ago; the three nodes share it
    stack = StandInStack()
    stack._snap = {name: replace(info, ports={MANAGEMENT_PORT: port}) for name, info in stack._snap.items()}
    events: list[Event] = []
    samplers = start_samplers(stack, lambda name, at, **data: events.append(Event(name, at, data)), float,
                              frozenset({KEY}))
    assert [type(s) for s in samplers] == [RoundsSampler]
    assert isinstance(samplers[0].rounds, QueueLeaderRounds) and samplers[0].rounds.queues == (QUEUE,)
    samplers[0].close()
    assert len(events) >= 2 and events[-1].data["final"] is True
    assert {e.data["component"] for e in events} == {KEY} and all(e.data["leaders"] == [] for e in events)


class HangingApi:
    """A node whose API answers once, then hangs (a partitioned cluster's management API) until released."""

    def __init__(self, first: list[dict[str, Any]]) -> None:
        self.first, self.calls = first, 0
        self.release = threading.Event()

    def queues(self, *, timeout_s: float) -> list[Queue]:
        self.calls += 1
        if self.calls > 1:
            self.release.wait(10)
            raise TimeoutError("timed out")
        return parse_queues(self.first)


def test_a_hanging_node_holds_back_no_other_answer_and_speaks_no_longer_than_the_timeout():
    hanging = HangingApi(doc("rabbit@rabbit1"))
    later = StandInApi([doc("rabbit@rabbit1")] + [doc("rabbit@rabbit2")] * 9)
    apis: dict[str, Any] = {"rabbit1": hanging, "rabbit2": later}
    events: list[Event] = []
    clock = itertools.count()
    rounds = QueueLeaderRounds(StandInStack(), [QUEUE], apis=lambda snap: apis, timeout_s=0.4, round_wait_s=0.05)
    sampler = RoundsSampler(rounds, lambda name, at, **data: events.append(Event(name, at, data)),
                            lambda: float(next(clock)))
    try:
        sampler.sample()  # both answer: rabbit1 leads
        sampler.sample()  # rabbit1 hangs; its last answer stands; rabbit2 already names rabbit2
        assert events[-1].data["views"] == {"rabbit1": "rabbit1", "rabbit2": "rabbit2"}
        time.sleep(0.5)   # past the timeout: the hanging node says nothing
        sampler.sample()
        assert events[-1].data["views"] == {"rabbit2": "rabbit2"} and events[-1].data["leaders"] == ["rabbit2"]
        assert hanging.calls == 2  # never asked again while its request is in flight
    finally:
        hanging.release.set()
        sampler.close()
