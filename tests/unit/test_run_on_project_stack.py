"""`drill run --project P` on a stack brought up without a component (MongoDB before its image was
here): the scenarios that need it are NOT RUN with the reason, the others run. A component the
stack defines but whose containers are gone is no such case: the stack is incomplete (exit 3)."""

import ipaddress
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ruamel.yaml import YAML

from drills.run_command import absent_on_stack
from drills.scenario import load_scenario
from drills.stack import ports, state
from drills.stack.env import MONGO_PROFILE, Secrets, StackSettings
from drills.stack.presence import Presence, absent_components, components_of
from drills.stack.project import compose_file
from drills.stack.roles import COMPONENTS

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.yaml"))
PROJECT = "drills-nomongo"


def defined_services(profiles: tuple[str, ...]) -> tuple[str, ...]:
    """What `compose config --services` lists for these profiles, read from the compose file itself."""
    services = YAML(typ="safe").load(compose_file().read_text())["services"]
    return tuple(sorted(name for name, spec in services.items()
                        if not spec.get("profiles") or set(spec["profiles"]) & set(profiles)))


@pytest.fixture(autouse=True)
def saved_stack(tmp_path, monkeypatch):
    # What `drill stack up` saved when the MongoDB image was absent.
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    state.save(StackSettings(project=PROJECT, subnet=ipaddress.IPv4Network("172.31.250.0/24"), images={},
                             secrets=Secrets.generate(), ports=ports.assign(compose_file().read_text()),
                             mongo_not_run="image mongo:7 absent"))


def test_without_mongo_only_the_mongo_scenarios_are_not_run():
    found = Presence(PROJECT, defined_services(()), ())
    reasons = {path.stem: absent_on_stack(load_scenario(path), found) for path in SCENARIOS}
    not_run = {name for name, why in reasons.items() if why}
    assert not_run == {path.stem for path in SCENARIOS if "mongo:7" in load_scenario(path).requires}
    assert len(not_run) == 6
    for name in not_run:
        assert f"stack {PROJECT} has no mongo service" in reasons[name]
        assert "(image mongo:7 absent)" in reasons[name] and "`drill stack up`" in reasons[name]


def test_with_mongo_defined_every_scenario_runs_even_with_its_containers_gone():
    expected = defined_services((MONGO_PROFILE,))
    mongo = tuple(s for s in expected if s.startswith("mongo"))
    assert mongo, "the compose file defines the MongoDB services under its profile"
    for missing in ((), mongo):
        found = Presence(PROJECT, expected, missing)
        assert [absent_on_stack(load_scenario(path), found) for path in SCENARIOS] == [""] * len(SCENARIOS)
    # Those containers gone is the incomplete stack `require_complete` refuses (exit 3), not NOT RUN.
    assert not Presence(PROJECT, expected, mongo).complete


@given(st.sets(st.sampled_from(sorted(COMPONENTS))), st.sets(st.sampled_from(sorted(COMPONENTS))))
def test_a_component_is_absent_only_when_no_service_of_it_is_defined(needed, present):
    services = [f"{COMPONENTS[c]}{i}" for c in present for i in (1, 2)] + ["lb", "dashboard1", "mongo-init"]
    assert set(absent_components(needed, services)) == needed - present


def test_roles_and_signals_name_their_component():
    assert components_of(["mongo.primary", "postgres.write", "rabbitmq.*", "etcd[1]", "dashboard[0]", "same",
                          "clients", "rabbitmq.leader@notifications"]) == {"mongo", "postgres", "rabbitmq", "etcd"}
