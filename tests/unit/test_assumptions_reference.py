"""Every assumption the scenarios and explorations declare holds on the reference stack, read
statically from its files (docker-compose.ha.yml's knobs as Compose merges them, the Patroni
entrypoint, the stack file's roles and queues); and on the example variations the assumptions break
exactly where the variation departs from what a bound relies on. `compose config` runs; no
container starts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from drills.core.effective_config import READ, EffectiveConfig, Part
from drills.files.exploration import load_exploration
from drills.files.scenario import load_scenario
from drills.files.scenario_schema import Expectation
from drills.files.stack_file import load_stack
from drills.spec.assumptions import BROKEN, HELD, check_all
from drills.stack.definition import RoleMap
from tests.unit.test_stack_examples import example, merged

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = (ROOT / "fixtures" / "images" / "patroni" / "drills-entrypoint").read_text()
FILES = sorted([*(ROOT / "scenarios").glob("*.yaml"), *(ROOT / "stacks" / "examples").glob("*/*.yaml")])
SCENARIOS = [p for p in FILES if p.name != "override.yaml" and "compose" not in p.name and p.name != "stack.yaml"]
EXPLORATIONS = sorted((ROOT / "explorations").glob("*.yaml"))


def expectations() -> list[tuple[str, Expectation]]:
    found = [(f"{p.stem}[{i}]", e) for p in SCENARIOS for i, e in enumerate(load_scenario(p).expectations)]
    return found + [(f"{p.stem}[{i}]", e) for p in EXPLORATIONS
                    for i, e in enumerate(load_exploration(p).invariants)]


def _one(services: dict[str, Any], members: tuple[str, ...], knob: str) -> str:
    values = {str(services[s]["environment"][knob]) for s in members}
    assert len(values) == 1, f"{knob} differs between {members}: {values}"
    return values.pop()


def _entrypoint(key: str) -> str:
    found = re.search(rf"^\s+{key}: (.+)$", ENTRYPOINT, re.M)
    assert found, f"the Patroni entrypoint sets no {key}: update this test"
    return found.group(1).strip()


def static_config(services: dict[str, Any], roles: RoleMap) -> EffectiveConfig:
    """The effective configuration the stack's files give, as `drills.stack.effective` would read it
    from the running stack (the knobs' values as Compose merges them, with the overrides)."""
    pg = roles.roles["postgres"]
    commit = re.fullmatch(r"\$\{DRILLS_POSTGRES_SYNCHRONOUS_COMMIT:-\w+\}", _entrypoint("synchronous_commit"))
    assert commit, "synchronous_commit is no longer the DRILLS_POSTGRES_SYNCHRONOUS_COMMIT knob: update this test"
    patroni = {"ttl": int(_one(services, pg, "DRILLS_PATRONI_TTL")),
               "loop_wait": int(_one(services, pg, "DRILLS_PATRONI_LOOP_WAIT")),
               "retry_timeout": int(_one(services, pg, "DRILLS_PATRONI_RETRY_TIMEOUT")),
               "synchronous_mode": _one(services, pg, "DRILLS_PATRONI_SYNCHRONOUS_MODE") == "true"}
    postgres = {"patroni": patroni,
                "postgresql": {k: _entrypoint(k) == "true" for k in ("use_pg_rewind", "use_slots")},
                "pg_settings": {"synchronous_commit": _one(services, pg, "DRILLS_POSTGRES_SYNCHRONOUS_COMMIT")}}
    rabbit = roles.roles["rabbitmq"]
    app = tuple(s for s, spec in services.items() if "DRILLS_QUEUE_TYPE" in (spec.get("environment") or {}))
    queue_type = _one(services, app, "DRILLS_QUEUE_TYPE")
    spec = load_stack(ROOT / "stacks" / "reference").spec.components.rabbitmq
    assert spec is not None
    rabbitmq = {"net_ticktime_s": int(_one(services, rabbit, "DRILLS_RABBITMQ_NET_TICKTIME")),
                "cluster_partition_handling": _one(services, rabbit, "DRILLS_RABBITMQ_PARTITION_HANDLING"),
                "queues": {q: {"type": queue_type, "members": len(rabbit) if queue_type == "quorum" else None}
                           for q in spec.queues}}
    defined = {role: len(members) for role, members in roles.roles.items()}
    return EffectiveConfig({
        "postgres": Part(READ, settings=postgres), "rabbitmq": Part(READ, settings=rabbitmq),
        "mongo": Part(READ, settings={"members": len(roles.roles["mongo"])}),
        "instances": Part(READ, settings={"defined": defined}),
    })


def not_held(config: EffectiveConfig) -> dict[str, list[str]]:
    found = {name: [f"{r.status}: {r.text}" for r in check_all(e.assumes, config) if r.status != HELD]
             for name, e in expectations()}
    return {k: v for k, v in found.items() if v}


def broken(config: EffectiveConfig) -> set[tuple[str, str]]:
    return {(name, r.assumes) for name, e in expectations() for r in check_all(e.assumes, config)
            if r.status == BROKEN}


@pytest.fixture(scope="module")
def reference() -> EffectiveConfig:
    return static_config(*merged())


def test_every_declared_assumption_holds_on_the_reference_stack(reference: EffectiveConfig) -> None:
    assert not_held(reference) == {}


def test_the_scenarios_do_declare_assumptions() -> None:
    """Not vacuous: the failover, durability and queue bounds all declare theirs."""
    declared = {a.split()[0] for _, e in expectations() for a in e.assumes}
    assert {"postgres.patroni.ttl", "postgres.patroni.loop_wait", "postgres.patroni.retry_timeout",
            "postgres.patroni.synchronous_mode", "postgres.synchronous_commit", "postgres.postgresql.use_pg_rewind",
            "rabbitmq.net_ticktime_s", "rabbitmq.cluster_partition_handling",
            "rabbitmq.queues.drill-events.type", "instances.defined.dashboard", "mongo.members"} <= declared


def test_asynchronous_replication_breaks_every_bound_that_relies_on_synchronous_mode() -> None:
    found = broken(static_config(*merged(example("async-replication"))))
    assert ("postgres-leader-kill[0]", "postgres.patroni.synchronous_mode == true") in found
    assert ("postgres-leader-unreachable[0]", "postgres.patroni.synchronous_mode == true") in found
    assert ("postgres-failover[0]", "postgres.patroni.synchronous_mode == true") in found
    assert {a for _, a in found} == {"postgres.patroni.synchronous_mode == true"}


def test_synchronous_commit_local_breaks_the_lost_writes_bounds(tmp_path: Path) -> None:
    """The field notes' trap: synchronous_mode reads true, yet commits are acknowledged locally."""
    override = tmp_path / "local.yaml"
    override.write_text("services:\n" + "".join(
        f"  pg{i}: {{environment: {{DRILLS_POSTGRES_SYNCHRONOUS_COMMIT: local}}}}\n" for i in (1, 2, 3)))
    config = static_config(*merged(override))
    found = broken(config)
    commit = "postgres.synchronous_commit in [on, remote_write, remote_apply]"
    assert ("postgres-leader-kill[0]", commit) in found and ("postgres-leader-disk-loss[0]", commit) in found
    assert {a for _, a in found} == {commit}
    assert all(r.runs == "local" for _, e in expectations() for r in check_all(e.assumes, config)
               if r.assumes == commit)


def test_a_slower_failover_breaks_the_failover_bounds_and_nothing_else() -> None:
    found = broken(static_config(*merged(example("slow-failover"))))
    assert ("postgres-leader-kill[1]", "postgres.patroni.ttl <= 10") in found
    assert ("postgres-leader-kill-45s[1]", "postgres.patroni.ttl <= 10") in found
    assert {a.split()[0] for _, a in found} == {"postgres.patroni.ttl", "postgres.patroni.loop_wait",
                                                "postgres.patroni.retry_timeout"}
    assert ("postgres-leader-kill[0]", "postgres.patroni.synchronous_mode == true") not in found


def test_classic_queues_break_the_quorum_queue_bounds() -> None:
    found = broken(static_config(*merged(example("classic-queues"))))
    assert ("rabbitmq-node-partition[0]", "rabbitmq.queues.drill-events.type == quorum") in found
    assert ("worker-instance-lost[0]", "rabbitmq.queues.scheduled-runs.type == quorum") in found
    assert {a.split()[0] for _, a in found} == {"rabbitmq.queues.drill-events.type",
                                                "rabbitmq.queues.scheduled-runs.type",
                                                "rabbitmq.queues.notifications.type"}


def test_more_instances_breaks_nothing() -> None:
    assert not_held(static_config(*merged(example("more-instances")))) == {}
