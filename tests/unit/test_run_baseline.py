"""Between scenarios (`drill run`, `--repeat N`): a stack not back at its baseline is brought
back, and the scenario is drilled from the verified baseline, its record saying why the stack had
to be brought back; only a stack that cannot be brought back stops the run."""

from pathlib import Path

import pytest

from drills.core.errors import StackError
from drills.core.wait import Observation, WaitTimeout
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

    def baseline(self) -> str:
        why = to_baseline(self.wait, self.bring_back)
        if why:
            self.missed.append(why)
        return why


def test_a_stack_at_its_baseline_is_left_alone():
    stack = Stack(ready=True)
    assert stack.baseline() == ""
    assert stack.brought_back == 0 and stack.missed == []


def test_a_stack_not_at_its_baseline_is_brought_back_and_says_why():
    stack = Stack(ready=False)
    why = stack.baseline()
    assert stack.brought_back == 1
    assert "waiting for worker1 exited" in why
    assert stack.baseline() == "", "the next scenario finds it at its baseline"
    assert stack.brought_back == 1 and len(stack.missed) == 1


def test_a_stack_that_cannot_be_brought_back_stops_the_run_with_both_causes():
    stack = Stack(ready=False, comes_back=False)
    with pytest.raises(StackError) as raised:
        stack.baseline()
    text = str(raised.value)
    assert "waiting for worker1 exited" in text and "no space left on device" in text and "free space" in text


@pytest.mark.parametrize("signal", [KeyboardInterrupt, SystemExit])
def test_an_interrupt_while_waiting_is_not_taken_for_a_stack_problem(signal):
    def wait() -> None:
        raise signal()

    with pytest.raises(signal):
        to_baseline(wait, lambda: pytest.fail("no bringing back on an interrupt"))
