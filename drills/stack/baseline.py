"""Between drills on one reused stack (`drill run` over several scenarios or `--repeat`, `drill
explore` over its examples): the stack back at its verified baseline before the next drill, if
need be brought back (and the drill told why), or the run stopped when it cannot be."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from drills.core.errors import StackError

if TYPE_CHECKING:
    from drills.stack.project import ComposeProject


def to_baseline(wait: Callable[[], object], bring_back: Callable[[], object]) -> str:
    """Before a scenario, the stack at its verified baseline (`wait`): "" when it is. Otherwise the
    stack is brought back (which waits for the baseline again) and why it had to be is returned:
    the scenario then runs from a verified baseline all the same, and its record says what the
    one before left (a drill that did not recover is its own finding, not this one's ERROR).
    Raises StackError (the run stops, its summary says how far it got) when the stack cannot be
    brought back at all."""
    try:
        wait()
        return ""
    except StackError as exc:
        why = str(exc.args[0])
    try:
        bring_back()
    except StackError as exc:
        raise StackError(f"the stack did not return to its baseline ({why}) and could not be brought back: "
                         f"{exc.args[0]}", hint=exc.hint) from exc
    return f"the stack was not back at its baseline before this scenario ({why}); brought back, then drilled"


def bring_back(stack: ComposeProject, *, own: bool, timeout_s: float = 120.0) -> None:
    """A stack that did not recover by itself: `compose up` (what stopped or went is started
    again) and the wait for the baseline; this run's own stack is booted afresh when that is not
    enough, a `--project` stack (the user's) keeps its volumes and gets no fresh boot."""
    from drills.stack.readiness import wait_ready

    print(f"stack {stack.project} not at its baseline: bringing it back", file=sys.stderr, flush=True)
    if own:
        stack.up(timeout_s=timeout_s)
    else:
        stack.up(wait=False, keep_volumes=True)
        wait_ready(stack, timeout_s=timeout_s)
