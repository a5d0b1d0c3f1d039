"""A verdict: what was expected, what was measured, and whether it holds.

A value that could not be measured makes the verdict NOT_MEASURED, never PASS; a checker that
raised makes it ERROR (the traceback kept in `error`), never costing the rest of the run. Numbers live in
`measured` and `bound`, their unit in the key's suffix: `_s` seconds, `_rate` a fraction 0-1,
`_bytes`, and plain counts otherwise (`lost`, `ops`).
"""

from __future__ import annotations

import enum
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from drills.spec.assumptions import AssumptionCheck


class Status(enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    NOT_MEASURED = "not measured"
    ERROR = "error"  # the checker itself raised: nothing was judged

    @property
    def label(self) -> str:
        return self.value.upper()


@dataclass(frozen=True)
class Verdict:
    checker: str  # the checker's name: availability, lost-writes, queue, resync, steady-state
    subject: str  # the signal or component judged
    expectation: str  # "documented": what the policy promises, with its bound
    observed: str  # the detail: what happened, in words with numbers
    status: Status
    measured: dict[str, Any] = field(default_factory=dict)  # the numbers, units in the key names
    bound: dict[str, Any] = field(default_factory=dict)
    why: str = ""  # the scenario's justification of the bound
    error: str = ""  # ERROR: the checker's traceback
    # The expectation's declared assumptions, checked against the configuration the stack ran
    # (drills.spec.assumptions): a bound whose assumption is broken judged a stack it was not made for.
    assumptions: tuple[AssumptionCheck, ...] = ()

    @property
    def passed(self) -> bool:
        return self.status is Status.PASS

    @property
    def name(self) -> str:
        return f"{self.checker}: {self.subject}"

    def to_json(self) -> dict[str, Any]:
        return {"checker": self.checker, "subject": self.subject, "expectation": self.expectation,
                "observed": self.observed, "status": self.status.value, "measured": self.measured,
                "bound": self.bound, "why": self.why, **({"error": self.error} if self.error else {}),
                **({"assumptions": [a.to_json() for a in self.assumptions]} if self.assumptions else {})}


def not_measured(checker: str, subject: str, expectation: str, reason: str, *,
                 bound: Mapping[str, Any] | None = None, measured: Mapping[str, Any] | None = None,
                 why: str = "") -> Verdict:
    return Verdict(checker, subject, expectation, f"not measured: {reason}", Status.NOT_MEASURED,
                   dict(measured or {}), dict(bound or {}), why)


def checker_error(checker: str, subject: str, expectation: str, exc: BaseException, *, why: str = "") -> Verdict:
    """The verdict of an expectation whose checker raised `exc` (Jepsen's check-safe): ERROR, with
    the traceback, so one broken checker costs its own expectation, not the run's record."""
    trace = "".join(traceback.format_exception(exc))
    return Verdict(checker, subject, expectation, f"the checker raised {type(exc).__name__}: {exc}", Status.ERROR,
                   why=why, error=trace)


def judge(ok: bool) -> Status:
    return Status.PASS if ok else Status.FAIL


def judge_all(checks: Iterable[bool | None]) -> Status:
    """Several bounds, each held (True), broken (False) or not measurable (None).

    One broken bound fails the verdict whatever else is unknown; otherwise one unknown makes it
    NOT_MEASURED; no bound at all is NOT_MEASURED too (nothing was shown to hold)."""
    results = list(checks)
    if any(r is False for r in results):
        return Status.FAIL
    if not results or any(r is None for r in results):
        return Status.NOT_MEASURED
    return Status.PASS
