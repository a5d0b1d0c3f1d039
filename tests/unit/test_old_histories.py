"""Histories written before the drill's events were typed (drills.core.events) still load and judge to
the verdicts their runs recorded.

The fixtures are two real runs of the policy suite (tests/fixtures/histories/<scenario>/: the
history, gzipped, and the journal, as `drill run` wrote them): a PostgreSQL leader killed (phases,
the fault, the leaders sampled, the system's events) and a RabbitMQ queue leader partitioned off
(its queue's leaders sampled). Each is judged again by `drills.run.evaluate` with the scenario, the
configuration and the recovery its journal recorded, and must give the same verdicts, measured
values and all.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from drills.core.effective_config import EffectiveConfig
from drills.core.events import FaultApplied, LeaderSample, Phase, SystemEvent, of_kind, phases
from drills.core.history import Op, load
from drills.files.scenario import Scenario
from drills.run.evaluate import RunFacts, evaluate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "histories"
RUNS = ["postgres-leader-kill", "rabbitmq-node-partition"]


def loaded(name: str, tmp_path: Path) -> tuple[dict[str, Any], list[Op], list[Any]]:
    with gzip.open(FIXTURES / name / "history.jsonl.gz", "rb") as src, (tmp_path / "history.jsonl").open("wb") as dst:
        shutil.copyfileobj(src, dst)
    ops, events = load(tmp_path / "history.jsonl")
    return json.loads((FIXTURES / name / "journal.json").read_text(encoding="utf-8")), ops, events


def facts_of(journal: dict[str, Any], scenario: Scenario, ops: list[Op]) -> RunFacts:
    """What the runner measured besides the history, from the journal. The final reads themselves
    are not kept in a run's records: where lost-writes read back every acknowledged write and
    nothing else (lost 0, unexpected 0, no indeterminate write present), that is what they were;
    the queues were drained where the queue checker passed (it needs them drained to judge)."""
    reads: dict[str, Any] = {}
    for exp in scenario.expectations:
        if exp.checker == "lost-writes":
            [m] = [v["measured"] for v in journal["verdicts"] if v["checker"] == exp.checker
                   and v["subject"] == exp.signal]
            assert (m["lost"], m["unexpected"], m["indeterminate_present"]) == (0, 0, 0)
            reads[exp.signal] = {o.value for o in ops if o.signal == exp.signal and o.kind == "write" and o.ok}
            assert len(reads[exp.signal]) == m["final_read"]
    drained = any(v["checker"] == "queue" and v["status"] == "pass" for v in journal["verdicts"])
    return RunFacts(final_reads=reads, drained=drained, recovered_after_s=journal["recovery"]["since_heal_s"])


@pytest.mark.parametrize("name", RUNS)
def test_an_old_history_judges_to_the_verdicts_its_run_recorded(name, tmp_path):
    journal, ops, events = loaded(name, tmp_path)
    scenario = Scenario.model_validate(journal["scenario"])
    effective = EffectiveConfig.from_json(journal["environment"]["effective"])
    verdicts = evaluate(scenario, ops, events, facts_of(journal, scenario, ops), effective)
    assert [v.status.value for v in verdicts] == [v["status"] for v in journal["verdicts"]]
    assert all(v.passed for v in verdicts) and journal["status"] == "passed"
    assert [v.to_json() for v in verdicts] == journal["verdicts"]


@pytest.mark.parametrize("name", RUNS)
def test_an_old_history_reads_as_the_typed_events_its_journal_describes(name, tmp_path):
    journal, _, events = loaded(name, tmp_path)
    assert [p["name"] for p in journal["phases"]] == [p.phase.value for p in sorted(
        (p for phase in Phase for p in phases(events, phase)), key=lambda p: p.at)]
    [fault] = journal["faults"]
    [applied] = of_kind(events, FaultApplied)
    assert (applied.kind, applied.target, list(applied.resolved), applied.fault) == \
        (fault["kind"], fault["target"], fault["resolved"], "")  # no fault id recorded then
    assert len(of_kind(events, LeaderSample)) >= 2 and of_kind(events, SystemEvent)
