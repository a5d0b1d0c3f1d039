"""A checker that raises costs its own expectation only (Jepsen's check-safe): that expectation is an
ERROR verdict with the traceback, every other one is still judged, and the run is written, sealed
(`drill verify` accepts it) and counted as an ERROR (exit code 3), never as passed or failed."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from drills.checkers.protocol import Evidence
from drills.checkers.registry import CHECKERS
from drills.checkers.verdict import Status, Verdict
from drills.files.scenario import load_scenario
from drills.records.evidence import verify_run_dir
from drills.records.journal import Journal
from drills.report.repeats import exit_code, sample_of_result
from drills.run.evaluate import RunFacts, evaluate
from drills.run.runner import Drill

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "postgres-leader-kill.yaml"


def broken(exp: Any, ev: Evidence) -> list[Verdict]:
    raise ZeroDivisionError("a bug in the checker")


@pytest.fixture
def resync_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKERS, "resync", replace(CHECKERS["resync"], check=broken))


def test_the_raising_checker_is_an_error_verdict_and_the_others_are_judged(resync_raises: None) -> None:
    s = load_scenario(SCENARIO)
    verdicts = evaluate(s, [], [], RunFacts())
    assert {v.checker for v in verdicts} == {e.checker for e in s.expectations}
    errors = [v for v in verdicts if v.status is Status.ERROR]
    assert [v.checker for v in errors] == ["resync"]
    assert "ZeroDivisionError: a bug in the checker" in errors[0].error and "Traceback" in errors[0].error
    assert errors[0].why == next(e.why for e in s.expectations if e.checker == "resync")
    assert all(v.status is not Status.ERROR for v in verdicts if v.checker != "resync")
    assert errors[0].to_json()["error"] == errors[0].error


def test_the_run_is_written_sealed_and_an_error(resync_raises: None, tmp_path: Path) -> None:
    tmp_path = tmp_path / "reports" / "r1"
    tmp_path.mkdir(parents=True)
    drill = object.__new__(Drill)
    drill.s = load_scenario(SCENARIO)
    drill.out = tmp_path
    drill.run_id = "r1"
    drill.t0 = time.monotonic()
    drill.effective = None  # no configuration read: its declared assumptions are unchecked
    drill.journal = Journal("r1", drill.s.model_dump(mode="json", by_alias=True), str(SCENARIO))
    (tmp_path / "history.jsonl").write_text("")
    result = drill._judge(RunFacts())
    assert result.status == "error" and "checker resync" in result.reason
    journal = json.loads((tmp_path / "journal.json").read_text())
    assert journal["status"] == "error"
    resync = [v for v in journal["verdicts"] if v["checker"] == "resync"]
    assert resync[0]["status"] == "error" and "ZeroDivisionError" in resync[0]["error"]
    assert {v["checker"] for v in journal["verdicts"]} == {e.checker for e in drill.s.expectations}
    junit = ET.parse(tmp_path / "junit.xml").getroot()
    assert int(junit.get("errors", "0")) >= 1
    checked = verify_run_dir(tmp_path)  # sealed: the manifest covers what was written
    assert checked.sealed and checked.findings == []
    assert exit_code([sample_of_result(result, 1)]) == 3
