"""A verdict: what was expected, what was measured, and whether it holds.

A value that could not be measured makes the verdict NOT_MEASURED, never PASS.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Status(enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    NOT_MEASURED = "not measured"


@dataclass(frozen=True)
class Verdict:
    checker: str
    subject: str  # the signal or component judged
    expectation: str  # "documented": what the policy promises, with its bound
    observed: str  # what happened, in words with numbers
    status: Status
    measured: dict[str, Any] = field(default_factory=dict)  # the numbers, units in the key names
    bound: dict[str, Any] = field(default_factory=dict)
    why: str = ""  # the scenario's justification of the bound

    @property
    def passed(self) -> bool:
        return self.status is Status.PASS

    def to_json(self) -> dict[str, Any]:
        return {"checker": self.checker, "subject": self.subject, "expectation": self.expectation,
                "observed": self.observed, "status": self.status.value, "measured": self.measured,
                "bound": self.bound, "why": self.why}


def not_measured(checker: str, subject: str, expectation: str, reason: str, **bound: Any) -> Verdict:
    return Verdict(checker, subject, expectation, f"not measured: {reason}", Status.NOT_MEASURED, {}, bound)


def judge(ok: bool) -> Status:
    return Status.PASS if ok else Status.FAIL
