"""Messages: confirmed by the broker but never consumed after a full drain are lost.

Per message id:
- *confirmed*: some publish of it ended `ok` (the broker confirmed it); never consumed -> **lost**;
- *unconfirmed*: published but never confirmed (`info`: the confirm never came; `fail`: refused).
  Consumed anyway is fine: the publisher just never heard back. Counted, not judged;
- **duplicates**: deliveries beyond the first of one message (at-least-once redelivery after a
  lost connection). Allowed unless the scenario bounds them;
- **unexpected**: consumed but never published by this drill: the consumer saw data it should
  not have, so the drain cannot be trusted, and the verdict fails.

Only a full drain makes "never consumed" mean lost: without one the verdict is NOT_MEASURED.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from pydantic import Field

from drills.checkers.lost_writes import SAMPLE, value_order
from drills.checkers.protocol import Checker, Evidence, ExpectationModel, FileView, Metric
from drills.checkers.verdict import Verdict, judge, not_measured
from drills.core.history import Op, Outcome
from drills.core.yaml_locate import Loc
from drills.spec.types import Int, Why

PUBLISH, CONSUME = "rabbitmq.publish", "rabbitmq.consume"


def check_queue(ops: Sequence[Op], publish_signal: str, consume_signal: str, *, drained: bool,
                max_lost: int = 0, max_duplicates: int | None = None, why: str = "") -> Verdict:
    bound: dict[str, int] = {"max_lost": max_lost}
    if max_duplicates is not None:
        bound["max_duplicates"] = max_duplicates
    expectation = f"confirmed messages lost <= {max_lost}" + (
        f"; duplicates <= {max_duplicates}" if max_duplicates is not None else "; duplicates allowed")
    published = [o for o in ops if o.signal == publish_signal and o.kind == "publish"]
    if not drained:
        return not_measured("queue", publish_signal, expectation, "the queue was not drained", bound=bound, why=why)
    if not published:
        return not_measured("queue", publish_signal, expectation, "nothing was published", bound=bound, why=why)
    confirmed = {o.value for o in published if o.outcome is Outcome.OK}
    attempted = {o.value for o in published}
    consumed = Counter(o.value for o in ops if o.signal == consume_signal and o.kind == "consume" and o.ok)
    lost = sorted((v for v in confirmed if v not in consumed), key=value_order)
    duplicates = sum(n - 1 for n in consumed.values() if n > 1)
    unexpected = sorted((v for v in consumed if v not in attempted), key=value_order)
    unconfirmed = attempted - confirmed
    measured = {
        "published": len(attempted), "confirmed": len(confirmed), "consumed_unique": len(consumed),
        "lost": len(lost), "duplicates": duplicates,
        "duplicated_messages": sum(1 for n in consumed.values() if n > 1),
        "unconfirmed": len(unconfirmed), "unconfirmed_delivered": sum(1 for v in unconfirmed if v in consumed),
        "unexpected": len(unexpected), "lost_sample": lost[:SAMPLE], "unexpected_sample": unexpected[:SAMPLE],
    }
    ok = len(lost) <= max_lost and not unexpected and (max_duplicates is None or duplicates <= max_duplicates)
    observed = f"{len(lost)} of {len(confirmed)} confirmed messages lost; {duplicates} duplicate deliveries"
    if lost:
        observed += f"; lost e.g. {', '.join(map(str, lost[:5]))}"
    if unconfirmed:
        observed += f"; {len(unconfirmed)} unconfirmed ({measured['unconfirmed_delivered']} delivered anyway)"
    if unexpected:
        observed += f"; {len(unexpected)} messages never published were consumed"
    return Verdict("queue", publish_signal, expectation, observed, judge(ok), measured, bound, why)


# ---- the expectation and the checker -------------------------------------------------------------


class QueueLoss(ExpectationModel):
    """Confirmed messages never consumed after a full drain (drills.checkers.queue)."""

    checker: Literal["queue"]
    max_lost: Int = Field(0, ge=0)
    max_duplicates: Int | None = Field(None, ge=0, description="Absent: duplicates are counted, not bounded.")
    why: Why


def _check(exp: QueueLoss, ev: Evidence) -> list[Verdict]:
    return [check_queue(ev.ops, PUBLISH, CONSUME, drained=ev.facts.drained, max_lost=exp.max_lost,
                        max_duplicates=exp.max_duplicates, why=exp.why)]


def _problems(exp: Mapping[str, Any], view: FileView) -> Iterable[tuple[Loc, str]]:
    if view.workload is not None and PUBLISH not in view.workload:
        yield (), f"the queue checker needs `{PUBLISH}` in the workload"


CHECKER = Checker(
    QueueLoss, _check, subject=lambda exp, scenario: PUBLISH, problems=_problems,
    metrics=(Metric("RPO", "messages", "lost", bound="max_lost", target="max_lost",
                    target_default=lambda exp, scenario, verdict: 0, junit="lost_messages"),),
    invariant="safety", trouble=("lost", "unconfirmed", "duplicates"))
