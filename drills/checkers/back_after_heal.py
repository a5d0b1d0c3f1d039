"""Back after the heal: a signal served again, sustained, within a bound of the drill's last heal.

Availability's RTO runs from the first injection, so its bound must cover every hold of the
schedule; this one runs from the last heal (the start of the last `heal` phase), so one bound
holds whatever came before: what an exploration's invariant "service back within X after the
last heal" needs, whatever steps and holds a schedule drew.

- *Back* is the end of the first ok op, at or after the heal, that opens a sustained run (at least
  `sustain_ops` ok ops in a row whose starts span at least `sustain` seconds): 0 when the signal is
  served, sustained, from the heal on. It is availability's recovery (`availability.recovery`)
  measured from the heal, so the two never disagree on what "recovered" means.
- A later blip (the healed node rejoining) does not move it: bound those with availability's
  `max_outage`.

Fail closed: no heal in the history (no step healed, or no fault at all), or no op of the signal
after it, is NOT MEASURED; a history that ends before success was sustained is NOT MEASURED too,
unless even the earliest possible recovery breaks the bound, or the signal never came back (FAIL).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from pydantic import Field

from drills.checkers.availability import recovery
from drills.checkers.protocol import Checker, Evidence, ExpectationModel, FileView, Watch, signal_not_driven
from drills.checkers.verdict import Verdict, judge, not_measured
from drills.core.events import Phase, last_heal
from drills.core.history import Op
from drills.core.yaml_locate import Loc
from drills.spec.types import Duration, Int, Why
from drills.workload.registry import Signal

NAME = "back-after-heal"


def check_back_after_heal(ops: Sequence[Op], signal: str, healed_at: float | None, *, max_after_heal_s: float,
                          sustain_s: float = 1.0, sustain_ops: int = 1, why: str = "") -> Verdict:
    expectation = (f"{signal} back within {max_after_heal_s:g} s of the last heal (ok for {sustain_s:g} s "
                   f"and >= {sustain_ops} ops in a row)")
    bound = {"max_after_heal_s": max_after_heal_s}
    if healed_at is None:
        return not_measured(NAME, signal, expectation, "nothing was healed in this drill", bound=bound, why=why)
    mine = [o for o in ops if o.signal == signal]
    # From the heal on, a failure is a disruption to recover from (the horizon is the heal itself).
    rec = recovery(mine, healed_at, fault_end=healed_at, sustain_s=sustain_s, sustain_ops=sustain_ops)
    measured: dict[str, Any] = {"healed_at_s": round(healed_at, 3),
                                "back_after_heal_s": None if rec.rto_s is None else round(rec.rto_s, 3)}
    if rec.why == "no-ops":
        return not_measured(NAME, signal, expectation, f"no {signal} op started after the heal", bound=bound,
                            measured=measured, why=why)
    if rec.rto_s is not None:
        observed = ("served from the heal on" if rec.why == "undisturbed"
                    else f"back {rec.rto_s:.2f} s after the heal (t={healed_at:.2f} s)")
        return Verdict(NAME, signal, expectation, observed, judge(rec.rto_s <= max_after_heal_s), measured, bound,
                       why)
    if rec.why == "never":
        return Verdict(NAME, signal, expectation, f"never back after the heal (t={healed_at:.2f} s): still failing "
                       f"{rec.at_least_s:.2f} s later, when the history ended", judge(False), measured, bound, why)
    # too-short: the drill stopped watching before success was sustained
    late = rec.at_least_s > max_after_heal_s
    observed = f"the history ended before success was sustained (back no sooner than {rec.at_least_s:.2f} s)"
    if late:
        return Verdict(NAME, signal, expectation, observed, judge(False), measured, bound, why)
    return not_measured(NAME, signal, expectation, observed, bound=bound, measured=measured, why=why)


class BackAfterHeal(ExpectationModel):
    """A signal served again within a bound of the last heal (drills.checkers.back_after_heal)."""

    checker: Literal["back-after-heal"]
    signal: Signal
    max_after_heal: Duration = Field(..., description="From the start of the last heal to sustained success.")
    sustain: Duration = Field(1.0, description="Success must hold this long to count as back.")
    sustain_ops: Int = Field(1, ge=1, description="... and for at least this many ops in a row.")
    why: Why


def _check(exp: BackAfterHeal, ev: Evidence) -> list[Verdict]:
    return [check_back_after_heal(ev.ops, exp.signal, last_heal(ev.events), max_after_heal_s=exp.max_after_heal,
                                  sustain_s=exp.sustain, sustain_ops=exp.sustain_ops, why=exp.why)]


def _problems(exp: Mapping[str, Any], view: FileView) -> Iterable[tuple[Loc, str]]:
    return signal_not_driven(exp, view)


def _watches(exp: BackAfterHeal) -> list[Watch]:
    return [Watch(exp.signal, exp.sustain, exp.sustain_ops, Phase.HEAL, exp.max_after_heal)]


CHECKER = Checker(BackAfterHeal, _check, subject=lambda exp, scenario: str(exp.get("signal")), problems=_problems,
                  watches=_watches, trouble=("back_after_heal_s",))
