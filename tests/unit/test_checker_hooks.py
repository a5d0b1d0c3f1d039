"""Checker hooks: what a checker must watch live (`Checker.watches`) or have sampled through the
drill (`Checker.samples`, `sampled`) is declared by the checker alone and served by the runner
generically. A checker registered here, with a watch and a need of its own, is watched and sampled
by an unchanged runner; a need that no sampler takes is refused by `drill validate` and by the
runner before any sampler starts, never silently left unsampled."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any, Literal

import pytest

from drills.checkers.protocol import Checker, Evidence, ExpectationModel, Watch
from drills.checkers.registry import CHECKERS, samples_plan, watches_of
from drills.checkers.verdict import Verdict, not_measured
from drills.core.errors import RegistryError
from drills.core.events import LeaderSample, Phase
from drills.core.history import History
from drills.files.scenario import check_file, load_scenario
from drills.records.journal import Journal
from drills.run.runner import Drill
from drills.sampling import registry as sampling
from drills.sampling.base import Sampling

ROOT = Path(__file__).resolve().parents[2]
KILL = ROOT / "scenarios" / "postgres-leader-kill.yaml"
NEED = "test-queue-depth"


class QueueDepth(ExpectationModel):
    """A checker no runner has heard of: it needs its signal watched and the queue depth sampled."""

    checker: Literal["test-queue-depth"]
    signal: str = "rabbitmq.publish"
    queue: str = "drill-events"
    why: str = "a test"


def _check(exp: QueueDepth, ev: Evidence) -> list[Verdict]:
    return [not_measured("test-queue-depth", exp.queue, "a test", "never judged")]


def checker(samples: frozenset[str] = frozenset({NEED})) -> Checker[QueueDepth]:
    return Checker(QueueDepth, _check, subject=lambda exp, scenario: str(exp.get("queue")), samples=samples,
                   sampled=lambda exp: f"depth@{exp.queue}",
                   watches=lambda exp: [Watch(exp.signal, 0.5, 3, Phase.HEAL, 7.0)])


class FakeSampler:
    def __init__(self, need: str, subjects: Collection[str]) -> None:
        self.need, self.subjects, self.closed = need, sorted(subjects), False

    def close(self) -> None:
        self.closed = True


def fake_start(need: str, calls: list[tuple[str, Any, list[str]]]) -> Callable[..., list[Any]]:
    def start(stack: Any, record: Callable[..., Any], now: Callable[[], float], subjects: Collection[str]) \
            -> list[Any]:
        calls.append((need, stack, sorted(subjects)))
        return [FakeSampler(need, subjects)]
    return start


@pytest.fixture
def registered(monkeypatch):
    """The test checker in the checker registry, its need (and the leaders, faked: no stack here)
    in the sampling registry, as a module of each package defining CHECKER / SAMPLING would be."""
    calls: list[tuple[str, Any, list[str]]] = []
    monkeypatch.setitem(CHECKERS, "test-queue-depth", checker())
    monkeypatch.setitem(sampling.SAMPLERS, NEED, Sampling(NEED, fake_start(NEED, calls)))
    monkeypatch.setitem(sampling.SAMPLERS, LeaderSample.NAME,
                        Sampling(LeaderSample.NAME, fake_start(LeaderSample.NAME, calls)))
    return calls


def drill_with(tmp_path: Path, *expectations: Any) -> Drill:
    """A drill of postgres-leader-kill (its availability, failover, ... expectations) plus these."""
    s = load_scenario(KILL)
    drill = object.__new__(Drill)
    drill.s = s.model_copy(update={"expectations": (*s.expectations, *expectations)})
    drill.t0 = time.monotonic()
    drill.journal = Journal("r", {}, str(KILL))
    drill.history = History(tmp_path / "history.jsonl")
    drill.stack = "the stack"  # type: ignore[assignment]
    return drill


def test_the_runner_watches_what_a_new_checker_declares(registered, tmp_path):
    drill = drill_with(tmp_path, QueueDepth(checker="test-queue-depth"))
    try:
        watches = drill._watch_served()
    finally:
        drill.history.close()
    assert [w for _, w in watches] == [Watch("postgres.write", 2.0, 1, Phase.INJECT, 20.0),
                                       Watch("rabbitmq.publish", 0.5, 3, Phase.HEAL, 7.0)]
    assert [(s.signal, s.sustain_s, s.sustain_ops) for s, _ in watches] == [("postgres.write", 2.0, 1),
                                                                            ("rabbitmq.publish", 0.5, 3)]
    assert drill.history.watchers == [s for s, _ in watches]  # told of every op as it is recorded


def test_the_runner_samples_what_a_new_checker_needs(registered, tmp_path):
    drill = drill_with(tmp_path, QueueDepth(checker="test-queue-depth"), QueueDepth(checker="test-queue-depth",
                                                                                    queue="other"))
    drill.history.close()
    assert samples_plan(drill.s.expectations) == {LeaderSample.NAME: {"postgres"},
                                                  NEED: {"depth@drill-events", "depth@other"}}
    samplers = drill._start_samplers()
    assert registered == [(LeaderSample.NAME, "the stack", ["postgres"]),
                          (NEED, "the stack", ["depth@drill-events", "depth@other"])]
    assert [(s.need, s.subjects) for s in samplers] == [(LeaderSample.NAME, ["postgres"]),
                                                        (NEED, ["depth@drill-events", "depth@other"])]


def test_the_policy_scenarios_plans_are_the_leaders_they_always_sampled():
    s = load_scenario(KILL)
    assert samples_plan(s.expectations) == {LeaderSample.NAME: {"postgres"}}
    assert watches_of(s.expectations) == [Watch("postgres.write", 2.0, 1, Phase.INJECT, 20.0)]
    assert set(sampling.SAMPLERS) == {LeaderSample.NAME}


def test_a_need_no_sampler_takes_is_an_error_before_any_sampler_starts(registered):
    with pytest.raises(RegistryError, match="no sampler records nobody-samples-this"):
        sampling.start({LeaderSample.NAME: {"postgres"}, "nobody-samples-this": {"x"}}, "the stack", print, time.time)
    assert registered == []


def test_samplers_started_are_closed_when_a_later_one_cannot_start(registered, monkeypatch):
    started: list[FakeSampler] = []

    def refuses(stack: Any, record: Any, now: Any, subjects: Collection[str]) -> list[Any]:
        raise ValueError(f"no sampler of {sorted(subjects)}")

    def starts(stack: Any, record: Any, now: Any, subjects: Collection[str]) -> list[Any]:
        started.append(FakeSampler("a", subjects))
        return list(started)

    monkeypatch.setitem(sampling.SAMPLERS, "a", Sampling("a", starts))
    monkeypatch.setitem(sampling.SAMPLERS, "b", Sampling("b", refuses))
    with pytest.raises(ValueError, match="no sampler of"):
        sampling.start({"a": {"x"}, "b": {"y"}}, "the stack", print, time.time)
    assert [s.closed for s in started] == [True]


def test_drill_validate_refuses_a_checker_whose_need_no_sampler_takes(monkeypatch, tmp_path):
    monkeypatch.setitem(CHECKERS, "test-queue-depth", checker(frozenset({"nobody-samples-this"})))
    scenario = KILL.read_text(encoding="utf-8").replace(
        "expectations:\n", "expectations:\n  - checker: test-queue-depth\n    why: a test\n", 1)
    path = tmp_path / "s.yaml"
    path.write_text(scenario, encoding="utf-8")
    _, problems = check_file(path)
    [found] = [p for p in problems if "nobody-samples-this" in p.message]
    assert found.field == "expectations[0].checker"
    assert "the test-queue-depth checker needs nobody-samples-this samples" in found.message
    monkeypatch.setitem(CHECKERS, "test-queue-depth", checker())
    monkeypatch.setitem(sampling.SAMPLERS, NEED, Sampling(NEED, fake_start(NEED, [])))
    _, problems = check_file(path)
    assert not [p for p in problems if "samples" in p.message]
