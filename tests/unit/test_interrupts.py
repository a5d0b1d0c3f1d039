"""SIGINT, SIGTERM and SIGHUP raise once, with the first signal's exit status; nothing raises while
a shield holds, and a held signal is never lost (drills.core.interrupts).

The CLI end of this (a real `drill run` signalled mid-hold) is tests/integration/test_run_sigterm.py.
"""

from __future__ import annotations

import signal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drills.core import interrupts
from drills.core.interrupts import SIGNALS, Interrupted, Trap

# One event of a trap's life: a signal arrives, a shield opens, a shield closes (raising what it
# held, or leaving it for `raise_pending`), or the runner asks for what is pending.
Event = tuple[str, int]
events = st.lists(st.one_of(st.tuples(st.just("signal"), st.sampled_from([int(s) for s in SIGNALS])),
                            st.tuples(st.sampled_from(["enter", "leave", "leave-hold", "pending"]), st.just(0))),
                  max_size=30)


@given(events)
def test_the_first_signal_raises_once_never_inside_a_shield_and_is_never_lost(sequence: list[Event]) -> None:
    trap = Trap()
    raised: list[Interrupted] = []
    signals = [n for kind, n in sequence if kind == "signal"]
    for kind, n in sequence:
        got = None
        if kind == "signal":
            got = trap.on_signal(n)
            assert got is None or trap.shields == 0, "raised inside a shield"
        elif kind == "enter":
            trap.enter_shield()
        elif trap.shields and kind in ("leave", "leave-hold"):
            got = trap.leave_shield(raise_on_exit=kind == "leave")
        elif kind == "pending" and not trap.shields:
            got = trap.pending()
        if got is not None:
            raised.append(got)
    while trap.shields:  # the blocks end; then the runner asks once more
        if (got := trap.leave_shield(raise_on_exit=True)) is not None:
            raised.append(got)
    if (got := trap.pending()) is not None:
        raised.append(got)
    assert len(raised) == (1 if signals else 0)
    if signals:
        assert raised[0].signum == signals[0]
        assert raised[0].exit_code == 128 + signals[0]


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_each_stop_signal_raises_a_keyboard_interrupt_with_its_exit_status(sig: signal.Signals, code: int) -> None:
    before = signal.getsignal(sig)
    with interrupts.trapped(), pytest.raises(KeyboardInterrupt) as caught:
        signal.raise_signal(sig)
    assert interrupts.exit_code(caught.value) == code
    assert signal.getsignal(sig) == before, "the previous handler is back after the block"


def test_a_second_signal_while_unwinding_is_ignored(capfd: pytest.CaptureFixture[str]) -> None:
    healed = False
    with interrupts.trapped(), pytest.raises(Interrupted) as caught:
        try:
            signal.raise_signal(signal.SIGTERM)
        finally:
            signal.raise_signal(signal.SIGINT)  # an impatient Ctrl-C during the heal
            signal.raise_signal(signal.SIGTERM)
            healed = True
    assert healed and caught.value.signum == signal.SIGTERM
    assert "SIGINT: already stopping" in capfd.readouterr().err


def test_a_shield_holds_the_signal_until_its_work_is_done() -> None:
    done = []
    with interrupts.trapped(), pytest.raises(Interrupted):
        with interrupts.shielded():
            signal.raise_signal(signal.SIGHUP)
            done.append("heal")
        done.append("never")
    assert done == ["heal"]


def test_a_held_signal_waits_for_raise_pending() -> None:
    with interrupts.trapped(), pytest.raises(Interrupted) as caught:
        with interrupts.shielded(raise_on_exit=False):
            signal.raise_signal(signal.SIGTERM)
        interrupts.raise_pending()
    assert caught.value.exit_code == 143


def test_without_a_trap_a_shield_changes_nothing() -> None:
    with interrupts.shielded():
        interrupts.raise_pending()
