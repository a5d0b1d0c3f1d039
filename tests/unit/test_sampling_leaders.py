"""Leader sampling through the registry: `start_samplers` opens each kind's rounds (its adapter's,
else its legacy entry's) in one generic `RoundsSampler`, refuses subjects no kind samples before
starting any, and Patroni's `/primary` claims ask the running members of the stack's role map."""

from __future__ import annotations

import ipaddress
import itertools
from pathlib import Path
from typing import Any

import pytest

from drills.components import _patroni_leaders, _rabbitmq_leaders, registry, repmgr
from drills.core.history import Event
from drills.sampling.leaders import RoundsSampler, sampleable, start_samplers
from drills.stack.definition import StackDefinition, StackFile
from drills.stack.env import Secrets, StackSettings
from drills.stack.services import ServiceInfo
from tests.stand_ins import reference_definition, reference_roles


class StandInStack:
    """The reference stack's PostgreSQL members as the engine lists them (`paused` ones frozen)."""

    def __init__(self, definition: StackDefinition | None = None, paused: tuple[str, ...] = ()) -> None:
        self.definition = definition or reference_definition()
        self.settings = StackSettings("drills-test", ipaddress.IPv4Network("172.30.9.0/24"), {}, Secrets.generate(),
                                      roles=reference_roles(), definition=self.definition)
        self.snap = {name: ServiceInfo(name, "id-" + name, f"drills-test-{name}-1",
                                       "paused" if name in paused else "running", "Up", "healthy", None,
                                       {8008: 42000 + i})
                     for i, name in enumerate(("pg1", "pg2", "pg3"))}
        self.fail = False

    def snapshot(self) -> dict[str, ServiceInfo]:
        if self.fail:
            raise OSError("the engine is slow")
        return self.snap


def test_the_kinds_without_an_adapter_have_their_rounds_in_the_registry():
    assert set(registry.LEGACY_LEADERS) == {k for k, legacy in registry.LEGACY.items() if legacy.leaders}
    assert {k: v.qualifier for k, v in registry.LEGACY_LEADERS.items()} == {
        k: legacy.leader_qualifier for k, legacy in registry.LEGACY.items() if legacy.leaders}


def test_a_subject_names_its_kind_and_a_qualifier_only_where_leadership_is_per_one():
    assert sampleable("postgres", None) and not sampleable("postgres@x", None)
    assert sampleable("rabbitmq@drill-events", "queue")
    assert not sampleable("rabbitmq", "queue") and not sampleable("rabbitmq@", "queue")


def test_patronis_rounds_ask_the_running_members_and_keep_their_ports_while_the_engine_is_slow(monkeypatch):
    stack = StandInStack(paused=("pg3",))
    asked: list[int] = []
    monkeypatch.setattr(_patroni_leaders, "claims_leadership", lambda port, timeout_s: asked.append(port) or
                        port == 42001)
    rounds = _patroni_leaders.open_rounds(stack, ["postgres"])
    try:
        reading = rounds.read()["postgres"]
        assert (reading.leaders, dict(reading.detail)) == (["pg2"], {"asked": ["pg1", "pg2"]})
        assert sorted(asked) == [42000, 42001] and rounds.every_s == 0.25
        stack.fail = True
        assert rounds.read()["postgres"].leaders == ["pg2"]  # the last known ports
    finally:
        rounds.close()


def test_patronis_rounds_use_the_stack_files_rest_port():
    stack = StandInStack(reference_definition(postgres={"rest_port": 9008}))
    stack.snap["pg1"] = ServiceInfo("pg1", "id-pg1", "c", "running", "Up", "healthy", None, {9008: 43000})
    rounds = _patroni_leaders.open_rounds(stack, ["postgres"])
    try:
        assert rounds.read()["postgres"].detail == {"asked": ["pg1"]}
    finally:
        rounds.close()


def test_each_kind_the_expectations_name_is_sampled_by_its_own_rounds():
    stack = StandInStack()
    samplers: list[Any] = start_samplers(stack, lambda *a, **k: None, float,
                                         frozenset({"postgres", "rabbitmq@drill-events", "rabbitmq@notifications"}))
    try:
        assert [type(s) for s in samplers] == [RoundsSampler, RoundsSampler]
        assert isinstance(samplers[0].rounds, _patroni_leaders.PrimaryClaims)
        assert isinstance(samplers[1].rounds, _rabbitmq_leaders.QueueLeaderRounds)
        assert samplers[1].rounds.queues == ("drill-events", "notifications")
        assert [(s.name, s.every_s) for s in samplers] == [("postgres-leader-sampler", 0.25),
                                                           ("rabbitmq-leader-sampler", 0.5)]
    finally:
        for sampler in samplers:
            sampler.close()


@pytest.mark.parametrize("subject", ["rabbitmq", "rabbitmq@", "postgres@leader", "mongo", "etcd"])
def test_a_subject_no_kind_samples_is_refused_before_any_sampler_starts(subject):
    with pytest.raises(ValueError, match=f"no sampler of the leaders of {subject}$"):
        start_samplers(StandInStack(), lambda *a, **k: None, float, frozenset({"postgres", subject}))


def test_a_component_whose_adapter_samples_leaders_is_sampled_by_its_adapters_rounds():
    definition = StackDefinition(Path("/nowhere/stack.yaml").resolve(), StackFile.model_validate(
        {"stack": "s", "compose": {"files": ["c.yaml"]}, "components": {"postgres": {"adapter": "repmgr"}}}))
    events: list[Event] = []
    clock = itertools.count()
    samplers: list[Any] = start_samplers(StandInStack(definition), lambda name, at, **data: events.append(
        Event(name, at, data)), lambda: float(next(clock)), frozenset({"postgres"}))
    try:
        assert [type(s.rounds) for s in samplers] == [repmgr.Rounds]
    finally:
        for sampler in samplers:
            sampler.close()
