"""Scenario files: good ones load, bad ones get every problem with file:line:col and field."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from drills.cli.main import cli
from drills.core.errors import ScenarioError
from drills.files.scenario import (
    FAULT_KINDS,
    Problem,
    check_file,
    load_scenario,
    parse_duration,
    scenario_json_schema,
    validate_files,
)
from drills.files.scenario_schema import STEP_MODELS

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


def write(tmp_path: Path, text: str | bytes, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def problems_text(path: Path) -> str:
    return "\n".join(str(p) for p in validate_files([path]))


def test_repository_scenarios_are_valid():
    files = sorted((ROOT / "scenarios").glob("*.yaml"))
    assert {f.name for f in files} >= {"postgres-leader-kill.yaml", "rabbitmq-node-partition.yaml"}
    assert validate_files(files) == []


def test_repository_scenarios_say_what_the_brief_asks():
    pg = load_scenario(ROOT / "scenarios" / "postgres-leader-kill.yaml")
    [kill] = pg.steps
    assert (kill.fault, kill.target, kill.hold, kill.heal) == ("kill", "postgres.leader", 15.0, True)
    by_checker = {(e.checker, getattr(e, "signal", None)): e for e in pg.expectations}
    assert by_checker[("lost-writes", "postgres.write")].max_lost == 0  # type: ignore[union-attr]
    assert by_checker[("resync", None)].max_resync == 60.0  # type: ignore[union-attr]
    assert "ttl" in by_checker[("availability", "postgres.write")].why
    rabbit = load_scenario(ROOT / "scenarios" / "rabbitmq-node-partition.yaml")
    [cut] = rabbit.steps
    assert cut.fault == "partition" and cut.groups() == ["rabbitmq.*"]
    [queue] = [e for e in rabbit.expectations if e.checker == "queue"]
    assert queue.max_lost == 0 and queue.max_duplicates is None  # type: ignore[union-attr]


def test_good_file_loads_typed(tmp_path):
    s = load_scenario(write(tmp_path, GOOD))
    assert s.steps[0].hold == 3.0 and s.steps[0].target == "postgres.leader" and s.steps[0].heal is True
    assert s.workload["postgres.write"].rate == 50 and s.workload["postgres.write"].clients == 1
    assert not hasattr(s, "stack")  # the stack is chosen by `drill run --stack`, never by a scenario
    assert s.recovery.timeout == 120.0
    with pytest.raises(Exception, match="frozen"):
        s.steps[0].hold = 5  # type: ignore[misc]


@pytest.mark.parametrize(("old", "new", "where", "words"), [
    ("hold: 3s", "hold: ten seconds", ":9:11: steps[0].hold:",
     "invalid duration 'ten seconds' (use e.g. 10s, 1.5s, 2m)"),
    ("hold: 3s", "hodl: 3s", ":9:5: steps[0].hodl:", "unknown field 'hodl'; did you mean 'hold'?"),
    ("hold: 3s", "delay: 3s", ":9:5: steps[0].delay:", "belongs to fault: latency"),
    ("fault: kill", "fault: explode", ":7:12: steps[0].fault:", "unknown fault 'explode'"),
    ("fault: kill", "fault: kil", ":7:12: steps[0].fault:", "did you mean 'kill'?"),
    ("rate: 50", "rate: fast", ":5:26: workload.postgres.write.rate:", "valid number (got 'fast')"),
    ("rate: 50", "rate: -1", ":5:26: workload.postgres.write.rate:", "greater than 0"),
    ("postgres.write: {rate", "postgres.wirte: {rate", ":5:3: workload.postgres.wirte:",
     "unknown signal 'postgres.wirte'; did you mean 'postgres.write'?"),
    ("{rate: 50}", "{rate: 50, write_concern: 1}", ":5:30: workload.postgres.write.write_concern:",
     "unknown field 'write_concern' for postgres.write; it belongs to signal: mongo.write"),
    ("checker: lost-writes", "checker: lost-write", ":11:14: expectations[0].checker:",
     "did you mean 'lost-writes'"),
    ("id: demo", "id: Demo Id", ":1:5: id:", "kebab-case"),
    ("title: Demo", "title: [a, b]", ":2:1: title:", "valid string"),  # a list: pointed at by its key
    ("target: postgres.leader", "target: postgres.primary", ":8:13: steps[0].target:", "leader, replica"),
    ("    why: acknowledged commits must survive\n", "", ":11:5: expectations[0].why:", "required field is missing"),
    ("    signal: postgres.write\n", "    signal: mongo.write\n", ":12:13: expectations[0].signal:",
     "not in the workload"),
    ("id: demo\n", "id: demo\ncolour: blue\n", ":2:1: colour:", "unknown field 'colour' (fields: after,"),
])
def test_each_problem_is_located(tmp_path, old, new, where, words):
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new))
    text = problems_text(path)
    assert f"{path}{where}" in text, text
    assert words in text, text


def test_all_problems_of_a_file_are_reported_at_once(tmp_path):
    bad = (GOOD.replace("hold: 3s", "hold: soon").replace("rate: 50", "rate: -1").replace("fault: kill", "fault: x")
           .replace("signal: postgres.write", "signal: nope"))
    problems = validate_files([write(tmp_path, bad)])
    assert {p.field for p in problems} == {"workload.postgres.write.rate", "steps[0].fault",
                                           "expectations[0].signal"}
    bad2 = GOOD.replace("hold: 3s", "hold: soon").replace("rate: 50", "rate: -1")
    assert {p.field for p in validate_files([write(tmp_path, bad2)])} == {"steps[0].hold",
                                                                           "workload.postgres.write.rate"}
    assert problems == sorted(problems), "in file order"


def test_a_step_missing_its_kind_or_its_parameters(tmp_path):
    text = GOOD.replace("  - fault: kill\n    target: postgres.leader\n",
                        "  - target: postgres.leader\n  - fault: latency\n    target: pg2\n")
    path = write(tmp_path, text)
    out = problems_text(path)
    assert f"{path}:7:5: steps[0].fault: required field is missing (one of kill," in out
    assert f"{path}:8:5: steps[1].delay: required field is missing" in out


def test_semantic_checks(tmp_path):
    text = GOOD.replace("    why: acknowledged commits must survive\n", """\
    why: acknowledged commits must survive
  - checker: resync
    max_resync: 10m
    why: slow
  - checker: queue
    why: messages
  - checker: availability
    signal: postgres.write
    why: no bound
""")
    out = problems_text(write(tmp_path, text))
    assert "expectations[1].max_resync: 600 s is longer than recovery.timeout (120 s)" in out
    assert "expectations[1]: say which component must resync" in out
    assert "expectations[2]: the queue checker needs `rabbitmq.publish`" in out
    assert "expectations[3]: give at least one bound" in out


def test_steady_window_too_short_for_min_ops(tmp_path):
    text = GOOD.replace("{rate: 50}", "{rate: 1}") + "  - checker: steady-state\n    why: quiet\n"
    assert "fewer than min_ops 5" in problems_text(write(tmp_path, "steady: 2s\n" + text))


@pytest.mark.parametrize(("content", "where", "words"), [
    ("id: x\ntitle: [unclosed\n", ":2:8:", "YAML syntax: a list opened here with '[' is not closed"),
    ("id: x\nid: y\n", ":2:1:", "duplicate key"),
    ("id: x\n\tbad: 1\n", ":2:1:", "YAML syntax"),
    ("id: x\ntitle: \x07\n", ":2:8:", "unacceptable character"),
    (b"\xff\xfe\x00bad", ":1:1:", "not UTF-8"),
    ("", ":1:1:", "must be a YAML mapping"),
    ("- just\n- a list\n", ":1:1:", "must be a YAML mapping"),
])
def test_unreadable_files_are_located(tmp_path, content, where, words):
    path = write(tmp_path, content)
    [problem] = validate_files([path])
    assert str(problem).startswith(f"{path}{where}"), problem
    assert words in problem.message


def test_a_missing_file_is_a_problem_not_a_crash(tmp_path):
    [problem] = validate_files([tmp_path / "nope.yaml"])
    assert problem.line == 1 and "cannot read" in problem.message


def test_duplicate_ids_across_files(tmp_path):
    a, b = write(tmp_path, GOOD, "a.yaml"), write(tmp_path, GOOD, "b.yaml")
    [problem] = validate_files([a, b])
    assert str(problem) == f"{b}:1:5: id: duplicate id 'demo' (also in {a})"


def test_a_directory_stands_for_its_yaml_files(tmp_path):
    write(tmp_path, GOOD, "a.yaml")
    write(tmp_path, GOOD.replace("id: demo", "id: other").replace("hold: 3s", "hold: x"), "b.yml")
    write(tmp_path, "not yaml at all: [", "notes.txt")
    [problem] = validate_files([tmp_path])
    assert problem.file.endswith("b.yml") and problem.field == "steps[0].hold"


@given(st.one_of(st.text(max_size=40), st.integers(), st.floats(), st.booleans(), st.none(),
                 st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2)),
       st.sampled_from(["demo", "Demo", "50", "kill", "postgres.leader", "3s", "lost-writes", "postgres.write",
                        "acknowledged commits must survive", "{rate: 50}"]))
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_value_anywhere_gives_problems_never_a_crash(tmp_path, value, where):
    # JSON is YAML: any JSON value dropped in place of any value of a good file.
    text = GOOD.replace(where, json.dumps(value), 1)
    path = write(tmp_path, text)
    scenario, problems = check_file(path)
    assert (scenario is None) == bool(problems)
    lines = text.splitlines() or [""]
    for p in problems:
        assert isinstance(p, Problem) and p.file == str(path)
        assert 1 <= p.line <= len(lines) + 1 and p.column >= 1


@given(st.text(max_size=200))
@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_text_gives_problems_never_a_crash(tmp_path, text):
    path = write(tmp_path, text.encode("utf-8", "surrogatepass"))
    scenario, problems = check_file(path)
    assert scenario is None and problems


def test_cli_prints_every_problem_and_exits_2_without_traceback(tmp_path):
    path = write(tmp_path, GOOD.replace("hold: 3s", "hodl: 3s").replace("rate: 50", "rate: fast"))
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception), "exit 2 by SystemExit, not by a crash"
    assert f"{path}:9:5: steps[0].hodl: unknown field 'hodl'; did you mean 'hold'?" in result.output
    assert f"{path}:5:26: workload.postgres.write.rate:" in result.output
    assert "2 problem(s) in 1 of 1 file(s)" in result.output


def test_cli_accepts_good_files_and_yaml_syntax_errors_are_located(tmp_path):
    good = write(tmp_path, GOOD, "good.yaml")
    ok = CliRunner().invoke(cli, ["validate", str(good)])
    assert ok.exit_code == 0 and "1 scenario file(s) valid" in ok.output
    broken = write(tmp_path, "id: x\ntitle: [unclosed\n", "broken.yaml")
    bad = CliRunner().invoke(cli, ["validate", str(good), str(broken)])
    assert bad.exit_code == 2 and f"{broken}:2:8: YAML syntax" in bad.output and "Traceback" not in bad.output


def test_load_raises_scenario_error_with_exit_code_2_and_every_problem(tmp_path):
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, GOOD.replace("hold: 3s", "hold: x").replace("rate: 50", "rate: y")))
    assert info.value.exit_code == 2
    assert "steps[0].hold" in str(info.value) and "workload.postgres.write.rate" in str(info.value)


def test_schema_is_json_schema_with_every_fault_kind_and_string_durations():
    schema = scenario_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    text = json.dumps(schema)
    for kind in FAULT_KINDS:
        assert f'"{kind}"' in text
    assert schema["additionalProperties"] is False
    validator = jsonschema.Draft202012Validator(schema)
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        data = YAML(typ="safe").load(path.read_text())
        assert list(validator.iter_errors(data)) == [], path  # "15s" is valid for editors too
    data = YAML(typ="safe").load(GOOD)
    data["steps"][0]["hold"] = "ten seconds"
    assert list(validator.iter_errors(data))


def test_cli_schema_prints_the_schema():
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0 and json.loads(result.output)["title"] == "Drills scenario"


def test_fault_parameters_reach_the_fault_functions_in_their_units(tmp_path):
    steps = """\
  - {fault: latency, target: pg2, delay: 200ms, jitter: 50ms}
  - {fault: loss, target: rabbitmq.*, percent: 30}
  - {fault: partition, target: postgres.leader, from: [etcd.*, clients], direction: out}
  - {fault: partition, target: postgres.leader}
  - {fault: stop-respawn, target: mongo.primary, timeout: 1m}
  - {fault: corrupt, target: "postgres.replica[0]", files: 2}
  - {fault: total-failure, target: postgres.*, keep_disks: true}
  - {fault: restore-backup, target: postgres.*, method: snapshot}
  - {fault: kill, target: "dashboard[0]", hold: 0}
"""
    text = GOOD.replace("  - fault: kill\n    target: postgres.leader\n    hold: 3s\n", steps)
    text += "backup: {component: postgres, method: snapshot}\n"  # restore-backup needs backups to restore
    s = load_scenario(write(tmp_path, text))
    latency, loss, cut, cut_default, stop, corrupt, total, restore, kill = s.steps
    assert latency.netem_args() == ["delay", "200.0ms", "50.0ms"]
    assert loss.netem_args() == ["loss", "30.0%"]
    assert (cut.groups(), cut.direction) == (["etcd.*", "clients"], "out")
    assert (cut_default.groups(), cut_default.direction) == (["postgres.*"], "both")
    assert stop.timeout_s == 60
    assert corrupt.files == 2
    assert total.keep_disks is True
    assert restore.method == "snapshot"
    assert (kill.fault, kill.hold) == ("kill", 0.0)
    assert {m.model_fields["fault"].annotation.__args__[0] for m in STEP_MODELS} == set(FAULT_KINDS)


@given(st.floats(0, 10_000, allow_nan=False), st.sampled_from([("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]))
def test_durations_parse_with_units(value, unit):
    suffix, factor = unit
    text = f"{value:.3f}{suffix}"
    assert parse_duration(text) == pytest.approx(float(f"{value:.3f}") * factor)


@pytest.mark.parametrize(("text", "seconds"), [("10s", 10), ("1.5s", 1.5), ("2m", 120), ("500ms", 0.5), (7, 7),
                                              (" 3 s ", 3), ("1h", 3600)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "ten", "5 parsecs", "-1s", True, None, float("nan"), float("inf"), -2, "1.s"])
def test_bad_durations_are_rejected(bad):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)


def test_public_surface_matches_all():
    import drills.files.scenario as module

    public = {n for n in vars(module) if not n.startswith("_") and getattr(getattr(module, n), "__module__", "")
              in ("drills.files.scenario", "drills.files.scenario_schema")}
    assert set(module.__all__) >= public - {"annotations"}
    assert all(hasattr(module, n) for n in module.__all__)


def test_same_target_needs_a_previous_step(tmp_path):
    bad = tmp_path / "same-first.yaml"
    bad.write_text(
        "id: same-first\ntitle: t\ncomponent: postgres\npolicy: p\nworkload:\n  postgres.write: {rate: 10}\n"
        "steps:\n  - fault: kill\n    target: same\nexpectations:\n"
        "  - checker: lost-writes\n    signal: postgres.write\n    why: w\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(bad)
    assert "steps[0].target" in str(err.value) and ":9:" in str(err.value) and "previous step" in str(err.value)


@pytest.mark.parametrize(("steps", "where", "words"), [
    ("  - {fault: pause, target: postgres.leader, overlaps_next: true}\n", "steps[0].overlaps_next",
     "the last step has no next step"),
    ("  - {fault: pause, target: postgres.leader, heal: false, overlaps_next: true}\n"
     "  - {fault: kill, target: postgres.replica}\n", "steps[0].overlaps_next", "heal: false stays applied"),
])
def test_a_step_overlaps_only_a_next_one_and_only_when_it_heals(tmp_path, steps, where, words):
    bad = tmp_path / "overlap.yaml"
    head = "id: overlap\ntitle: t\ncomponent: postgres\npolicy: p\nworkload:\n  postgres.write: {rate: 10}\nsteps:\n"
    tail = "expectations:\n  - checker: lost-writes\n    signal: postgres.write\n    why: w\n"
    bad.write_text(head + steps + tail)
    with pytest.raises(ScenarioError) as err:
        load_scenario(bad)
    assert where in str(err.value) and words in str(err.value)
    good = tmp_path / "overlap-ok.yaml"
    good.write_text(head + "  - {fault: pause, target: postgres.leader, overlaps_next: true}\n"
                    "  - {fault: kill, target: postgres.replica}\n" + tail)
    assert [s.overlaps_next for s in load_scenario(good).steps] == [True, False]
