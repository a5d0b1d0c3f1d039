"""The drill watches the signals its checkers declare (`Checker.watches`) and does not end before
each is served again or its bound has passed: "never recovered" only from a drill that watched long
enough. A stack whose own readiness comes back before its traffic does is the case this is for."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from drills.checkers.availability import Availability
from drills.checkers.protocol import Watch
from drills.checkers.registry import CHECKERS
from drills.core.history import History, Op, Outcome, Sustained
from drills.files.scenario import load_scenario
from drills.records.journal import Journal
from drills.run.runner import Drill

ROOT = Path(__file__).resolve().parents[2]
KILL = ROOT / "scenarios" / "postgres-leader-kill.yaml"


class Quiet:
    def phase(self, name: str, detail: str = "") -> None:
        pass


def drill_with(tmp_path: Path, max_rto: float, sustain: float) -> Drill:
    """A drill whose scenario has one availability expectation with these bounds."""
    s = load_scenario(KILL)
    exp = Availability(checker="availability", signal="postgres.write", max_rto=max_rto, sustain=sustain,
                       why="a bound")
    drill = object.__new__(Drill)
    drill.s = s.model_copy(update={"expectations": (exp,)})
    drill.t0 = time.monotonic()
    drill.journal = Journal("r", {}, str(KILL))
    drill.history = History(tmp_path / "history.jsonl")
    drill.progress = Quiet()
    return drill


def test_the_policy_scenarios_declare_what_their_checkers_judge_served_again():
    s = load_scenario(KILL)
    declared = [w for e in s.expectations for w in CHECKERS[e.checker].watches(e)]
    # availability with max_rto: from the injection; the bystander's error-rate bound needs no watch
    assert declared == [Watch("postgres.write", 2.0, 1, "inject", 20.0)]


def healed_now(drill: Drill) -> tuple[list[tuple[Sustained, Watch]], float]:
    """The drill's watches, restarted by a heal that happens now (as `run` does), and that moment."""
    watches = drill._watch_served()
    heal = drill.now()
    for watch, _ in watches:
        watch.restart(heal)
    return watches, heal


def test_a_signal_not_served_again_is_watched_until_its_bound_has_passed(tmp_path):
    drill = drill_with(tmp_path, max_rto=0.6, sustain=0.2)
    watches, start = healed_now(drill)
    try:
        drill._wait_served(watches, first_inject=start, last_heal=start)
    finally:
        drill.history.close()
    assert drill.now() >= start + 0.6 + 0.2  # the bound and the sustain, from the injection
    [served] = [p for p in drill.journal.phases if p.name == "served"]
    assert "postgres.write not back" in served.detail


def test_a_signal_served_again_ends_the_wait_at_once(tmp_path):
    drill = drill_with(tmp_path, max_rto=60, sustain=0.2)
    watches, heal = healed_now(drill)
    stop = threading.Event()

    def serve() -> None:
        i = 0
        while not stop.is_set():
            t = drill.now()
            drill.history.append(Op("postgres.write", 0, "write", i, t, t + 0.01, Outcome.OK))
            i += 1
            time.sleep(0.02)

    writer = threading.Thread(target=serve)
    writer.start()
    try:
        drill._wait_served(watches, first_inject=heal, last_heal=heal)
    finally:
        stop.set()
        writer.join()
        drill.history.close()
    assert drill.now() < heal + 60  # back, sustained: no waiting for the bound
    [served] = [p for p in drill.journal.phases if p.name == "served"]
    assert "postgres.write back at" in served.detail
