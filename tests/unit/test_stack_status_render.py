"""`drill stack status`, text and `--json`, from fixed statuses: golden files written from the
renderer before the components' status moved behind the protocol (plans/components-protocol.md,
B2), so that the move is checked byte for byte. `UPDATE_GOLDEN=1` rewrites them (then read the diff)."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from rich.console import Console

from drills.cli import stack as cli_stack
from drills.components._mongo_status import MongoMember, MongoStatus, not_run
from drills.components._postgres_cluster import PgMember, PostgresStatus, ProxyPath, StreamingReplica
from drills.components._rabbitmq_api import Queue, RabbitNode, RabbitStatus
from drills.core.effective_config import EffectiveConfig, Part, absent, not_read
from drills.stack.loadbalancer import Backend, LoadBalancerStatus
from drills.stack.status import ServiceHealth, StackStatus

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "stack_status"

SERVICES = (
    ServiceHealth("pg1", "drills-x-pg1-1", "running", "healthy", {5432: 40001, 8008: 40002}),
    ServiceHealth("pg2", "drills-x-pg2-1", "running", "starting", {5432: 40003}),
    ServiceHealth("rabbit1", "drills-x-rabbit1-1", "exited", None, {}),
    ServiceHealth("lb", "drills-x-lb-1", "running", "unhealthy", {8080: 40010}),
)
EFFECTIVE = EffectiveConfig(
    parts={"postgres": Part("read", settings={"patroni": {"ttl": 10}}), "rabbitmq": not_read("no node answered"),
           "mongo": absent("not in this stack"), "balancer": Part("read", settings={"check_interval_ms": 2000})},
    read_s=1.25, stack={"file": "stack.yaml"})


def full() -> StackStatus:
    """Every table with something in it, and each kind of trouble each one shows."""
    return StackStatus(
        project="drills-x", subnet="10.77.3.0/24", services=SERVICES, components=dict(
        postgres=PostgresStatus(
            leader="pg-a",
            members=(PgMember("pg-a", "leader", "running", "10.77.3.2", timeline=3, service="pg1"),
                     PgMember("pg-b", "replica", "streaming", "10.77.3.3", lag_bytes=0, service="pg2"),
                     PgMember("pg-c", "replica", "stopped", "10.77.3.9", api_host="pg-c.local")),
            replication=(StreamingReplica("pg-b", "10.77.3.3", "streaming", 0, 128, 0.0125),
                         StreamingReplica("pg-z", "10.77.3.8", "catchup", 5, 9, None)),
            error="pg_stat_replication on pg-a: timeout"),
        rabbitmq=RabbitStatus(
            nodes=(RabbitNode("rabbit@rabbit1", False), RabbitNode("rabbit@rabbit2", True)),
            queues=(Queue("scheduled-runs", "quorum", "rabbit@rabbit2", ("rabbit@rabbit1", "rabbit@rabbit2"),
                          ("rabbit@rabbit2",), 12),
                    Queue("drill-events", "classic", None, (), (), None)),
            error="rabbit1: connection refused"),
        mongo=MongoStatus(True, primary="mongo1",
                          members=(MongoMember("10.77.3.20:27017", "mongo1", "PRIMARY", True, None),
                                   MongoMember("10.77.3.21:27017", None, "RECOVERING", False, 3.25)),
                          error="mongo3: not reachable"),
        postgres_nodes=("pg1", "pg2", "pg3"),
        postgres_access=(ProxyPath("db-proxy", "pgbouncer1", 6432, ("127.0.0.1", 40020), leader=True),
                         ProxyPath("db-proxy", "pgbouncer2", 6432, None),
                         ProxyPath("db-proxy", "pgbouncer3", 6432, ("127.0.0.1", 40021), error="refused"),
                         ProxyPath("db-proxy", "pgbouncer4", 6432, ("127.0.0.1", 40022), leader=False))),
        lb=LoadBalancerStatus(backends=(Backend("dashboard1", "UP", "L7OK"), Backend("dashboard2", "DOWN", "L4CON"))),
        effective=EFFECTIVE, missing=("pg3",), stack="reference",
        compose_files=("compose.yaml", "/tmp/drills-x.override.yaml"),
        roles={"postgres": ["pg1", "pg2", "pg3"], "rabbitmq": ["rabbit1", "rabbit2"], "mongo": ["mongo1"],
               "dashboard": ["dashboard1", "dashboard2"]})


def sparse() -> StackStatus:
    """A PostgreSQL-only stack of the user's: no leader, no proxy, no RabbitMQ or MongoDB role, a
    balancer that keeps no health state; effective read without timing."""
    return StackStatus(
        project="drills-y", subnet="10.77.4.0/24", services=SERVICES[:2], components=dict(
            postgres=PostgresStatus(None, (PgMember("db-1", "replica", "running", "db-1", service="db-1"),), ()),
            rabbitmq=RabbitStatus((), (), error="no RabbitMQ member"),
            mongo=not_run("no MongoDB service in this stack"),
            postgres_nodes=("db-1",), postgres_access=None),
        lb=LoadBalancerStatus(summary="nginx keeps no health state (servers: web1, web2)", detail={"servers": 2}),
        effective=EffectiveConfig(parts={}), stack="mine", compose_files=("c.yaml",),
        roles={"postgres": ["db-1"], "web": ["web1"]})


def gone() -> StackStatus:
    """Everything failing to be read: no stack file recorded (an old saved stack), MongoDB not run."""
    return StackStatus(
        project="drills-z", subnet="10.77.5.0/24", services=(), components=dict(
            postgres=PostgresStatus(None, (), (), error="no Patroni REST API answered: pg1:8008: refused"),
            rabbitmq=RabbitStatus((), (), error="no management API answered"),
            mongo=MongoStatus(False, error="not run: image mongo:7 not present"),
            postgres_nodes=(), postgres_access=()),
        lb=LoadBalancerStatus(error="lb is not running"), effective=EffectiveConfig(parts={}))


CASES = {"full": full, "sparse": sparse, "gone": gone}


def rendered(st: StackStatus, monkeypatch: pytest.MonkeyPatch, colour: bool = False) -> str:
    out = io.StringIO()
    monkeypatch.setattr("rich.console.Console", lambda: Console(
        file=out, width=140, color_system="standard" if colour else None, force_terminal=colour,
        legacy_windows=False))
    cli_stack._render(st)
    return out.getvalue()


def _golden(name: str, text: str) -> str:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", sorted(CASES))
def test_status_text_is_the_golden_one(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    text = rendered(CASES[case](), monkeypatch)
    assert text == _golden(f"{case}.txt", text)


@pytest.mark.parametrize("case", sorted(CASES))
def test_status_json_is_the_golden_one(case: str) -> None:
    text = json.dumps(CASES[case]().to_json(), indent=2, default=str) + "\n"
    assert text == _golden(f"{case}.json", text)


def test_status_colours_are_the_golden_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    text = rendered(full(), monkeypatch, colour=True)
    assert text == _golden("full.ansi.txt", text)
