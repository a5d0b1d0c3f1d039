"""The operator variations of stacks/examples/*/override.yaml stay valid over the reference stack:
Compose merges each with docker-compose.ha.yml, the roles resolve (what `drill doctor --stack
stacks/reference -f OVERRIDE` checks), the knobs each one turns reach the services, and the
instances an override adds join their roles by their io.drills.role labels alone. `compose
config` runs; no container starts, no Docker engine is asked."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest

from drills.files.stack_file import load_stack
from drills.stack.definition import RoleMap
from drills.stack.env import Secrets, StackSettings
from drills.stack.project import ComposeProject

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "stacks" / "examples").glob("*/override.yaml"))


def merged(*overrides: Path) -> tuple[dict[str, Any], RoleMap]:
    """The reference stack with `overrides`: Compose's merged services, and the role map."""
    definition = load_stack(ROOT / "stacks" / "reference", overrides)
    settings = StackSettings(project="drills-examples", subnet=ipaddress.IPv4Network("172.30.9.0/24"), images={},
                             secrets=Secrets.generate(), definition=definition)
    stack = ComposeProject(settings, owner_kind="stack")
    return stack.config().get("services") or {}, stack.read_roles()


def example(name: str) -> Path:
    return ROOT / "stacks" / "examples" / name / "override.yaml"


def test_the_examples_are_there_with_their_readmes():
    assert {p.parent.name for p in EXAMPLES} >= {"async-replication", "slow-failover", "more-instances",
                                                 "classic-queues"}
    assert all((p.parent / "README.md").is_file() for p in EXAMPLES)


@pytest.mark.parametrize("override", EXAMPLES, ids=lambda p: p.parent.name)
def test_every_example_merges_and_keeps_every_role_played(override):
    reference, plain = merged()
    services, roles = merged(override)
    assert set(reference) <= set(services)
    for role, members in plain.roles.items():
        assert set(members) <= set(roles.roles[role]), role


def patroni(services: dict[str, Any], knob: str) -> set[str]:
    return {services[pg]["environment"][f"DRILLS_PATRONI_{knob}"] for pg in ("pg1", "pg2", "pg3")}


def test_async_replication_turns_synchronous_mode_off_on_every_member():
    assert patroni(merged()[0], "SYNCHRONOUS_MODE") == {"true"}
    assert patroni(merged(example("async-replication"))[0], "SYNCHRONOUS_MODE") == {"false"}


def test_slow_failover_sets_patroni_s_timings_on_every_member_within_patroni_s_rule():
    services, _ = merged(example("slow-failover"))
    ttl, loop_wait, retry = (patroni(services, k) for k in ("TTL", "LOOP_WAIT", "RETRY_TIMEOUT"))
    assert (ttl, loop_wait, retry) == ({"30"}, {"10"}, {"10"})
    # Patroni refuses a configuration where loop_wait + 2 * retry_timeout > ttl.
    assert int(loop_wait.pop()) + 2 * int(retry.pop()) <= int(ttl.pop())


def test_more_instances_adds_a_dashboard_and_a_worker_to_their_roles_by_label_alone():
    _, plain = merged()
    services, roles = merged(example("more-instances"))
    assert plain.roles["dashboard"] == ("dashboard1", "dashboard2") and plain.roles["worker"] == ("worker1", "worker2")
    assert roles.roles["dashboard"] == ("dashboard1", "dashboard2", "dashboard3")
    assert roles.roles["worker"] == ("worker1", "worker2", "worker3")
    assert {"dashboard3", "worker3"} <= set(roles.roles["clients"])
    assert services["lb"]["environment"]["DRILLS_LB_BACKENDS"].split() == ["dashboard1", "dashboard2", "dashboard3"]
    # The copies run what their originals run, on fixed addresses of their own.
    assert services["dashboard3"]["command"] == services["dashboard1"]["command"]
    assert services["worker3"]["command"] == services["worker1"]["command"]
    addresses = [s["networks"]["stack"]["ipv4_address"] for s in services.values()
                 if (s.get("networks") or {}).get("stack")]
    assert len(addresses) == len(set(addresses))


def test_classic_queues_sets_the_queue_type_on_every_app_service_that_declares_queues():
    def types(services: dict[str, Any]) -> dict[str, str]:
        return {name: env["DRILLS_QUEUE_TYPE"] for name, s in services.items()
                if "DRILLS_QUEUE_TYPE" in (env := s.get("environment") or {})}

    reference = types(merged()[0])
    assert reference and set(reference.values()) == {"quorum"}
    assert types(merged(example("classic-queues"))[0]) == dict.fromkeys(reference, "classic")
