"""Messages: confirmed by the broker but never consumed after a full drain are lost.

Duplicates (a message consumed more than once: at-least-once delivery after a connection loss)
are counted and allowed unless the scenario bounds them. Unconfirmed messages that arrive anyway
are fine: the publisher just never heard back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from drills.checkers.verdict import Verdict, judge, not_measured
from drills.history import Op


def check_queue(ops: Sequence[Op], publish_signal: str, consume_signal: str, *, drained: bool,
                max_lost: int = 0, max_duplicates: int | None = None, why: str = "") -> Verdict:
    bound: dict[str, int] = {"max_lost": max_lost}
    if max_duplicates is not None:
        bound["max_duplicates"] = max_duplicates
    expectation = f"confirmed messages lost <= {max_lost}" + (
        f"; duplicates <= {max_duplicates}" if max_duplicates is not None else "; duplicates allowed")
    published = [o for o in ops if o.signal == publish_signal]
    if not drained:
        return not_measured("queue", publish_signal, expectation, "the queue was not drained", **bound)
    if not published:
        return not_measured("queue", publish_signal, expectation, "nothing was published", **bound)
    confirmed = {o.value for o in published if o.ok}
    consumed = Counter(o.value for o in ops if o.signal == consume_signal and o.ok)
    lost = sorted(v for v in confirmed if v not in consumed)
    duplicates = sum(n - 1 for n in consumed.values() if n > 1)
    unconfirmed_delivered = sum(1 for v in consumed if v not in confirmed)
    measured = {"published": len(published), "confirmed": len(confirmed), "consumed_unique": len(consumed),
                "lost": len(lost), "duplicates": duplicates, "unconfirmed_delivered": unconfirmed_delivered,
                "lost_sample": lost[:20]}
    ok = len(lost) <= max_lost and (max_duplicates is None or duplicates <= max_duplicates)
    observed = f"{len(lost)} of {len(confirmed)} confirmed messages lost; {duplicates} duplicates"
    return Verdict("queue", publish_signal, expectation, observed, judge(ok), measured, bound, why)
