"""Between scenarios (`drill run`, `--repeat N`): a stack not back at its baseline costs that
scenario's run (an ERROR, with why), is brought back, and the run goes on; only a stack that
cannot be brought back stops the run."""

import json
from pathlib import Path
from xml.etree import ElementTree

import pytest

from drills.core.errors import StackError
from drills.core.wait import Observation, WaitTimeout
from drills.files.scenario import load_scenario
from drills.records.result import RunResult
from drills.report.repeats import exit_code, sample_of_result
from drills.stack.baseline import to_baseline

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "postgres-leader-kill.yaml"


class Stack:
    """A stack in memory: whether it is at its baseline, and whether bringing it back works."""

    def __init__(self, *, ready: bool, comes_back: bool = True) -> None:
        self.ready, self.comes_back = ready, comes_back
        self.brought_back = 0
        self.missed: list[str] = []

    def wait(self) -> None:
        if not self.ready:
            raise WaitTimeout("containers healthy", 60.0, Observation(False, "waiting for worker1 exited"))

    def bring_back(self) -> None:
        self.brought_back += 1
        if not self.comes_back:
            raise StackError("docker compose up failed for drills-x: no space left on device", hint="free space")
        self.ready = True

    def baseline(self) -> bool:
        return to_baseline(self.wait, self.bring_back, self.missed.append)


def test_a_stack_at_its_baseline_is_left_alone():
    stack = Stack(ready=True)
    assert stack.baseline()
    assert stack.brought_back == 0 and stack.missed == []


def test_a_stack_not_at_its_baseline_costs_one_run_and_is_brought_back():
    stack = Stack(ready=False)
    assert not stack.baseline(), "this scenario's run is skipped"
    assert stack.brought_back == 1
    [why] = stack.missed
    assert "not back at its baseline" in why and "waiting for worker1 exited" in why
    assert stack.baseline(), "the next scenario runs on the stack brought back"
    assert stack.brought_back == 1 and len(stack.missed) == 1


def test_a_stack_that_cannot_be_brought_back_stops_the_run_with_both_causes():
    stack = Stack(ready=False, comes_back=False)
    with pytest.raises(StackError) as raised:
        stack.baseline()
    text = str(raised.value)
    assert "waiting for worker1 exited" in text and "no space left on device" in text and "free space" in text
    assert len(stack.missed) == 1, "the run it cost is recorded before the run stops"


@pytest.mark.parametrize("signal", [KeyboardInterrupt, SystemExit])
def test_an_interrupt_while_waiting_is_not_taken_for_a_stack_problem(signal):
    def wait() -> None:
        raise signal()

    missed: list[str] = []
    with pytest.raises(signal):
        to_baseline(wait, lambda: pytest.fail("no bringing back on an interrupt"), missed.append)
    assert missed == []


def test_the_run_it_cost_is_an_error_in_journal_junit_and_exit_code(tmp_path, monkeypatch):
    """Through the session every way of running drills shares (drills.run.session)."""
    from drills.run import session
    from drills.run.session import Fitted, Session

    def not_ready(stack, timeout_s):
        raise WaitTimeout("containers healthy", timeout_s, Observation(False, "waiting for worker1 exited"))

    monkeypatch.setattr("drills.stack.readiness.wait_ready", not_ready)
    monkeypatch.setattr(session, "bring_back", lambda stack, *, own: None)
    recorded: list[RunResult] = []
    s = Session(reports_dir=tmp_path, say=lambda text: None)
    s.stack = object()  # type: ignore[assignment]
    scenario = load_scenario(SCENARIO)
    result = s.run(Fitted(SCENARIO, scenario, scenario), record=recorded.append)
    assert recorded == [result] and result.status == "error" and result.verdicts == []
    assert result.out_dir is not None
    journal = json.loads((result.out_dir / "journal.json").read_text())
    assert journal["status"] == "error" and "not back at its baseline" in journal["reason"]
    suite = ElementTree.parse(result.out_dir / "junit.xml").getroot()
    assert suite.get("errors") == "1" and suite.get("skipped") == "0"
    passed = RunResult("r2", result.scenario_id, "passed", [], None)
    assert exit_code([sample_of_result(result, 1), sample_of_result(passed, 2)]) == 3, "never a pass"
