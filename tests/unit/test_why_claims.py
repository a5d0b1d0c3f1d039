"""What a `why:` says of the stack, checked against the configuration a run read from the stack it
drilled: on the reference stack every scenario's why holds; on a variation (asynchronous
replication, a slower failover) the claims it does not bear out are named, and the report prints
them beside the expectation."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from drills.report.why_claims import claimed_mode, contradicted
from drills.scenario import load_scenario
from drills.stack.effective_config import NOT_READ, EffectiveConfig, Part
from tests.unit.test_stack_effective import reference_config

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
WHYS = [(p.stem, i, e.why) for p in SCENARIOS for i, e in enumerate(load_scenario(p).expectations)]


def varied(**patroni: object) -> EffectiveConfig:
    doc = copy.deepcopy(reference_config().to_json())
    doc["parts"]["postgres"]["settings"]["patroni"].update(patroni)
    return EffectiveConfig.from_json(json.loads(json.dumps(doc)))


def test_on_the_reference_stack_every_why_holds():
    config = reference_config()
    unheld = {(name, i): contradicted(why, config) for name, i, why in WHYS}
    assert {k: v for k, v in unheld.items() if v} == {}


def test_the_whys_do_make_claims_that_are_checked():
    """Not vacuous: on a stack running other timings and asynchronous replication, many whys fail."""
    other = varied(ttl=30, loop_wait=10, retry_timeout=10, synchronous_mode=False)
    unheld = [c for _, _, why in WHYS for c in contradicted(why, other)]
    assert any(c.startswith("says ttl 10 s; this stack runs ttl 30 s") for c in unheld)
    assert any(c.startswith("says loop_wait 2 s; this stack runs loop_wait 10 s") for c in unheld)
    assert any(c == "says PostgreSQL replicates in synchronous mode; this stack runs Patroni's synchronous_mode off"
               for c in unheld)


@pytest.mark.parametrize(("text", "mode"), [
    ("in synchronous mode a commit is acknowledged once the standby flushed it", "synchronous"),
    ("replication is asynchronous, so the last commits may be lost", "asynchronous"),
    ("the leader (asynchronous streaming replication) acknowledges first", "asynchronous"),
    ("a leader demotes itself after retry_timeout", None),
])
def test_the_replication_mode_claimed(text, mode):
    assert claimed_mode(text) == mode


def test_a_setting_not_read_from_the_stack_is_unchecked_not_taken_as_true():
    config = reference_config()
    unread = EffectiveConfig({**config.parts, "postgres": Part(NOT_READ, reason="timed out")}, stack=config.stack)
    assert contradicted("ttl 10 s, in synchronous mode", unread) == [
        "says ttl 10 s; not read from this stack, unchecked",
        "says PostgreSQL replicates in synchronous mode; not read from this stack, unchecked"]
    assert contradicted("a 2 s connect_timeout per host; its 5 s op timeout", unread) == []  # the clients' own


def test_the_report_prints_what_a_why_says_that_the_stack_drilled_does_not_run(tmp_path):
    from drills.report.render import _expectations

    scenario = load_scenario(ROOT / "scenarios" / "postgres-leader-kill.yaml").model_dump(mode="json", by_alias=True)
    journal = {"phases": [{"name": "steady"}], "environment": {"effective": varied(ttl=30).to_json()}}
    rows = _expectations(scenario, journal)
    assert any("says ttl 10 s; this stack runs ttl 30 s" in r["why_unheld"] for r in rows)
    reference = {"phases": [{"name": "steady"}], "environment": {"effective": reference_config().to_json()}}
    assert all(r["why_unheld"] == [] for r in _expectations(scenario, reference))
    unrecorded = _expectations(scenario, {"phases": [{"name": "steady"}], "environment": {}})
    claims = [r for r in unrecorded if contradicted(r["why"], reference_config()) != contradicted(r["why"], None)]
    assert claims, "some whys of this scenario quote the stack's settings"
    assert all(u.endswith("the run recorded no configuration of the stack, unchecked")
               for r in claims for u in r["why_unheld"])
