"""The runner's live watch of "served again since the last heal" (`history.Sustained`) agrees with
the checker that judges it afterwards (`back-after-heal`): when the watch says back, the checker can
judge (it measures a time back), and while it does not, the checker could not have either; so a
drill that waits for the watch never ends with that verdict NOT MEASURED for want of history."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from drills.checkers.back_after_heal import check_back_after_heal
from drills.core.history import Op, Outcome, Sustained

HEAL = 5.0


@st.composite
def one_client(draw):
    """Ops of one client, one after another (as a client's are), around a heal at t=5."""
    ops, t = [], draw(st.floats(0, 8))
    for _ in range(draw(st.integers(0, 40))):
        duration = draw(st.floats(0.01, 1.5))
        outcome = draw(st.sampled_from([Outcome.OK, Outcome.OK, Outcome.FAIL, Outcome.INFO]))
        ops.append(Op("postgres.write", 0, "write", len(ops), t, t + duration, outcome))
        t += duration + draw(st.floats(0, 0.5))
    return ops


@given(one_client(), st.floats(0, 3), st.integers(1, 4))
def test_the_watch_says_back_exactly_when_the_checker_can_measure_it(ops, sustain, sustain_ops):
    watch = Sustained("postgres.write", sustain_s=sustain, sustain_ops=sustain_ops)
    watch.restart(HEAL)
    for op in ops:
        watch(op)
    verdict = check_back_after_heal(ops, "postgres.write", HEAL, max_after_heal_s=1000, sustain_s=sustain,
                                    sustain_ops=sustain_ops)
    assert watch.back == (verdict.measured.get("back_after_heal_s") is not None), (verdict.observed, watch.back_at)


def test_a_restart_forgets_what_came_before_the_new_heal():
    watch = Sustained("postgres.write", sustain_s=0.0)
    watch.restart(1.0)
    watch(Op("postgres.write", 0, "write", 1, 1.5, 1.6, Outcome.OK))
    assert watch.back
    watch.restart(3.0)
    assert not watch.back
    watch(Op("postgres.write", 0, "write", 2, 2.0, 2.1, Outcome.OK))  # before the new heal: not counted
    watch(Op("rabbitmq.publish", 0, "publish", 3, 3.5, 3.6, Outcome.OK))  # another signal
    assert not watch.back
