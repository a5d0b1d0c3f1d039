"""The checker registry: every checker is complete, and the schema, `evaluate` and the reports
know exactly the checkers it lists."""

from __future__ import annotations

import json
import pkgutil
import typing
from pathlib import Path

import pytest

import drills.checkers
from drills.checkers.protocol import Checker, ExpectationModel, Metric
from drills.checkers.registry import CHECKERS, samples_needed, subject_of
from drills.checkers.verdict import Status
from drills.files.scenario import load_scenario, scenario_json_schema
from drills.files.scenario_schema import CHECKERS as SCHEMA_CHECKERS
from drills.files.scenario_schema import EXPECTATION_MODELS
from drills.run.evaluate import RunFacts, evaluate
from drills.sampling.registry import SAMPLERS

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = [load_scenario(p) for p in sorted((ROOT / "scenarios").glob("*.yaml"))]
KINDS, UNITS = ("RTO", "outage", "RPO"), ("s", "writes", "messages")


def test_every_checker_module_is_registered_under_its_models_tag():
    shared = {"protocol", "registry", "verdict", "backup_schedule"}
    modules = {m.name for m in pkgutil.iter_modules(drills.checkers.__path__)} - shared
    assert {c.check.__module__.rsplit(".", 1)[1] for c in CHECKERS.values()} == modules
    assert len(CHECKERS) >= 9
    for name, checker in CHECKERS.items():
        assert isinstance(checker, Checker)
        assert checker.name == name


@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_every_checker_has_a_model_a_check_a_subject_and_declares_its_metrics(name):
    checker = CHECKERS[name]
    model = checker.model
    assert issubclass(model, ExpectationModel)
    assert typing.get_args(model.model_fields["checker"].annotation) == (name,)
    assert model.model_fields["why"].is_required(), "every bound carries its justification"
    assert model.model_config.get("frozen") and model.model_config.get("extra") == "forbid"
    assert model.__doc__, "the model's docstring is its description in `drill schema`"
    assert callable(checker.check) and callable(checker.subject) and callable(checker.problems)
    assert isinstance(checker.metrics, tuple)
    for m in checker.metrics:
        assert isinstance(m, Metric) and m.kind in KINDS and m.unit in UNITS and m.measured
        assert m.target is None or m.target in model.model_fields, f"{name}: no field {m.target!r}"
    assert set(checker.samples) <= set(SAMPLERS), "a need no module of drills.sampling takes"


def test_the_schema_lists_exactly_the_registered_checkers():
    items = scenario_json_schema()["properties"]["expectations"]["items"]
    assert sorted(items["discriminator"]["mapping"]) == sorted(CHECKERS)
    assert len(items["oneOf"]) == len(CHECKERS)
    assert tuple(SCHEMA_CHECKERS) == tuple(CHECKERS)
    assert tuple(c.model for c in CHECKERS.values()) == EXPECTATION_MODELS


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_on_an_empty_history_no_checker_passes_and_subjects_match_the_verdicts(scenario):
    """Fail closed: nothing recorded is never a pass. And the subject the reports compute from a
    journal's plain scenario is the subject of the checker's verdicts (how rows find verdicts)."""
    verdicts = evaluate(scenario, [], [], RunFacts())
    assert verdicts and all(v.status is not Status.PASS for v in verdicts)
    plain = scenario.model_dump(mode="json", by_alias=True)
    for exp in plain["expectations"]:
        if CHECKERS[exp["checker"]].metrics:
            subjects = {v.subject for v in verdicts if v.checker == exp["checker"]}
            assert subject_of(exp, plain) in subjects


def test_the_runner_samples_leaders_only_for_a_checker_that_needs_them():
    needs = {s.id: samples_needed(s.expectations) for s in SCENARIOS}
    sampling = {s.id for s in SCENARIOS if any(e.checker in ("split-brain", "failover") for e in s.expectations)}
    assert {k for k, v in needs.items() if "leaders" in v} == sampling
    assert sampling


def test_every_declared_metric_names_numbers_the_verdicts_hold(tmp_path):
    """A metric whose key a checker's verdicts never carry would show as "not measured" in every
    report: each measured verdict of the policy suite's checkers holds its declared keys."""
    from tests.report_factory import make_run

    seen: dict[str, set[str]] = {}
    for scenario in SCENARIOS:
        run = make_run(tmp_path / scenario.id, name=scenario.id, backup_at=3.0 if scenario.backup else None,
                       fault_at=5.0, hold=2.0, after=2.0, outage=(5.3, 8.0))
        for v in json.loads((run / "journal.json").read_text())["verdicts"]:
            if v["status"] == Status.NOT_MEASURED.value:
                continue
            for m in CHECKERS[v["checker"]].metrics:
                assert m.measured in v["measured"], (v["checker"], m.measured)
            seen.setdefault(v["checker"], set()).update(v["bound"])
    with_metrics = {name: c for name, c in CHECKERS.items() if c.metrics}
    assert set(seen) >= set(with_metrics), "every checker with metrics measured something in the policy suite"
    for name, checker in with_metrics.items():
        assert {m.bound for m in checker.metrics if m.bound} <= seen[name], name
