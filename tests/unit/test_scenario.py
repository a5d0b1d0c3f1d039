"""Scenario files: good ones load, bad ones get every problem with file:line:col and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from drills.cli import cli
from drills.errors import ScenarioError
from drills.scenario import load_scenario, parse_duration, scenario_json_schema, validate_files

ROOT = Path(__file__).resolve().parents[2]
GOOD = """\
id: demo
title: Demo
policy: No service degradation is expected.
workload:
  postgres.write: {rate: 50}
steps:
  - fault: kill
    target: postgres.leader
    hold: 3s
expectations:
  - checker: lost-writes
    signal: postgres.write
    why: acknowledged commits must survive
"""


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_repository_scenarios_are_valid():
    files = sorted((ROOT / "scenarios").glob("*.yaml"))
    assert files
    assert validate_files(files) == []


def test_good_file_loads_typed(tmp_path):
    s = load_scenario(write(tmp_path, GOOD))
    assert s.steps[0].hold == 3.0 and s.steps[0].target == "postgres.leader"
    assert s.workload["postgres.write"].rate == 50
    assert s.stack.file == "docker-compose.ha.yml"


@pytest.mark.parametrize(("old", "new", "where", "words"), [
    ("hold: 3s", "hold: ten seconds", ":9:11: steps[0].hold:", "invalid duration 'ten seconds'"),
    ("hold: 3s", "hodl: 3s", ":9:5: steps[0].hodl:", "did you mean 'hold'"),
    ("fault: kill", "fault: explode", ":7:12: steps[0].fault:", "'explode'"),
    ("rate: 50", "rate: fast", ":5:26: workload.postgres.write.rate:", "valid number"),
    ("checker: lost-writes", "checker: lost-write", ":11:5: expectations[0]:", "did you mean 'lost-writes'"),
    ("id: demo", "id: Demo Id", ":1:5: id:", "pattern"),
    ("    why: acknowledged commits must survive\n", "", ":11:5: expectations[0].why:", "required"),
    ("    signal: postgres.write\n", "    signal: mongo.write\n", ":12:13: expectations[0].signal:",
     "not in the workload"),
])
def test_each_problem_is_located(tmp_path, old, new, where, words):
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new))
    problems = validate_files([path])
    text = "\n".join(str(p) for p in problems)
    assert f"{path}{where}" in text, text
    assert words in text, text


def test_all_problems_of_a_file_are_reported_at_once(tmp_path):
    bad = GOOD.replace("hold: 3s", "hold: soon").replace("rate: 50", "rate: -1").replace("fault: kill", "fault: x")
    problems = validate_files([write(tmp_path, bad)])
    assert {p.field for p in problems} == {"steps[0].hold", "workload.postgres.write.rate", "steps[0].fault"}


def test_yaml_syntax_error_is_located(tmp_path):
    path = write(tmp_path, "id: x\ntitle: [unclosed\n")
    [problem] = validate_files([path])
    assert problem.line == 3 and "YAML syntax" in problem.message


def test_duplicate_ids_across_files(tmp_path):
    a, b = write(tmp_path, GOOD, "a.yaml"), write(tmp_path, GOOD, "b.yaml")
    [problem] = validate_files([a, b])
    assert "duplicate id 'demo'" in problem.message


def test_cli_prints_problems_and_exits_2_without_traceback(tmp_path):
    path = write(tmp_path, GOOD.replace("hold: 3s", "hodl: 3s"))
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert f"{path}:9:5: steps[0].hodl: unknown field 'hodl'; did you mean 'hold'?" in result.output


def test_load_raises_scenario_error_with_exit_code_2(tmp_path):
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, "- just\n- a list\n"))
    assert info.value.exit_code == 2 and "must be a YAML mapping" in str(info.value)


def test_schema_is_json_schema_with_every_fault_kind():
    schema = scenario_json_schema()
    text = json.dumps(schema)
    for kind in ("kill", "partition", "disk-loss", "corrupt", "total-failure", "latency"):
        assert f'"{kind}"' in text
    assert schema["additionalProperties"] is False


@given(st.floats(0, 10_000, allow_nan=False), st.sampled_from([("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]))
def test_durations_parse_with_units(value, unit):
    suffix, factor = unit
    text = f"{value:.3f}{suffix}"
    assert parse_duration(text) == pytest.approx(float(f"{value:.3f}") * factor)


@pytest.mark.parametrize("bad", ["", "ten", "5 parsecs", "-1s", True])
def test_bad_durations_are_rejected(bad):
    with pytest.raises(ValueError):
        parse_duration(bad)
