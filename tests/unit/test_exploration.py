"""Exploration files: the example is valid, every mistake is reported at file:line:col with the
field, and `drill validate` / `drill schema --exploration` / `drill explore` read them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from drills.cli.scenario import schema, validate
from drills.core.errors import ScenarioError
from drills.files.exploration import (
    check_exploration_file,
    exploration_json_schema,
    load_exploration,
    looks_like_exploration_file,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "explorations" / "postgres-failover.yaml"

VALID = """\
id: tiny
title: Tiny
workload:
  postgres.write: {rate: 50}
fault_space:
  faults:
    - kind: kill
      targets: [postgres.leader]
    - kind: partition
      targets: [postgres.replica]
      with:
        direction: [both, in]
  hold: {min: 1s, max: 5s}
  steps: {max: 2}
invariants:
  - checker: lost-writes
    signal: postgres.write
    why: no acknowledged write lost
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "exploration.yaml"
    path.write_text(text)
    return path


def test_the_example_exploration_is_valid_and_searches_every_postgres_role():
    exploration, problems = check_exploration_file(EXAMPLE)
    assert problems == [] and exploration is not None
    kinds = {choice.kind: set(choice.targets) for choice in exploration.fault_space.faults}
    assert set(kinds) == {"partition", "kill", "pause"}
    assert all(targets == {"postgres.leader", "postgres.replica", "postgres.*"} for targets in kinds.values())
    checkers = {inv.checker for inv in exploration.invariants}
    assert checkers == {"lost-writes", "split-brain", "resync", "back-after-heal"}


def test_a_minimal_exploration_is_valid(tmp_path):
    exploration, problems = check_exploration_file(write(tmp_path, VALID))
    assert problems == [] and exploration is not None
    assert exploration.fault_space.steps.min == 1 and exploration.fault_space.overlap is False


@pytest.mark.parametrize(("old", "new", "where", "field", "words"), [
    ("kind: kill", "kind: kil", "7:13", "fault_space.faults[0].kind", "must be one of 'kill'"),
    ("targets: [postgres.leader]", "targets: [postgres.boss]", "8:17", "fault_space.faults[0].targets[0]",
     "postgres has the roles"),
    ("targets: [postgres.leader]", "targets: [same]", "8:17", "fault_space.faults[0].targets[0]",
     "draws its targets from roles"),
    ("direction: [both, in]", "direction: [both, sideways]", "12:27", "fault_space.faults[1].with.direction[1]",
     "'both', 'in' or 'out'"),
    ("direction: [both, in]", "directon: [both, in]", "12:9", "fault_space.faults[1].with.directon",
     "did you mean 'direction'?"),
    ("direction: [both, in]", "hold: [1s]", "12:9", "fault_space.faults[1].with.hold", "hold range"),
    ("hold: {min: 1s, max: 5s}", "hold: {min: 6s, max: 5s}", "13:15", "fault_space.hold.min",
     "min (6 s) is more than max (5 s)"),
    ("hold: {min: 1s, max: 5s}", "hold: {min: 1s, max: 2.5s}", "13:24", "fault_space.hold.max", "whole seconds"),
    ("steps: {max: 2}", "steps: {min: 3, max: 2}", "14:16", "fault_space.steps.min", "min (3) is more than max"),
    ("steps: {max: 2}", "steps: {max: 20}", "14:16", "fault_space.steps.max", "less than or equal to 10"),
    ("steps: {max: 2}", "steps: {max: 2}\n  overlap: sometimes", "15:12", "fault_space.overlap", "boolean"),
    ("signal: postgres.write", "signal: mongo.write", "17:13", "invariants[0].signal", "not in the workload"),
    ("    why: no acknowledged write lost\n", "    why: no acknowledged write lost\n    hold: 3s\n", "19:5",
     "invariants[0].hold", "it is a field of steps"),
    ("invariants:", "steps: []\ninvariants:", "15:1", "steps", "schedules are drawn from `fault_space:`"),
    # issue 19: past 4,300 digits an index escaped as ValueError (Python's int() limit)
    ("targets: [postgres.leader]", "targets: ['postgres.replica[" + "9" * 5000 + "]']", "8:17",
     "fault_space.faults[0].targets[0]", "index too large (5,000 digits)"),
    ("direction: [both, in]", "from: [['etcd[" + "9" * 5000 + "]']]", "12:17", "fault_space.faults[1].with.from[0][0]",
     "index too large (5,000 digits)"),
])
def test_every_mistake_is_located_with_its_field(tmp_path, old, new, where, field, words):
    assert old in VALID
    exploration, problems = check_exploration_file(write(tmp_path, VALID.replace(old, new, 1)))
    assert exploration is None
    shown = [f"{p.line}:{p.column} {p.field}: {p.message}" for p in problems]
    assert any(s.startswith(f"{where} {field}: ") and words in s for s in shown), shown


def test_a_field_without_a_default_must_be_given_its_values(tmp_path):
    text = VALID.replace("kind: kill", "kind: latency")
    _, problems = check_exploration_file(write(tmp_path, text))
    assert [(p.line, p.field) for p in problems] == [(7, "fault_space.faults[0].kind")]
    assert "latency needs `delay`" in problems[0].message
    fixed = text.replace("      targets: [postgres.leader]\n", "      targets: [postgres.leader]\n"
                         "      with: {delay: [200ms, 1s]}\n", 1)
    assert check_exploration_file(write(tmp_path, fixed))[1] == []


def test_a_restore_without_a_backup_schedule_is_refused_at_its_kind(tmp_path):
    text = VALID.replace("kind: kill", "kind: restore-backup").replace("postgres.leader", "postgres.*")
    _, problems = check_exploration_file(write(tmp_path, text))
    assert [(p.line, p.field) for p in problems] == [(7, "fault_space.faults[0].kind")]
    assert "backup" in problems[0].message


def test_load_exploration_raises_with_every_problem(tmp_path):
    path = write(tmp_path, VALID.replace("kind: kill", "kind: kil").replace("max: 2", "max: 0"))
    with pytest.raises(ScenarioError) as caught:
        load_exploration(path)
    assert str(caught.value).count(str(path)) == 2


def test_exploration_files_are_told_from_scenarios_by_fault_space(tmp_path):
    assert looks_like_exploration_file(EXAMPLE)
    assert not looks_like_exploration_file(ROOT / "scenarios" / "postgres-leader-kill.yaml")
    assert not looks_like_exploration_file(tmp_path / "absent.yaml")


def _styled(text: str, style: str) -> str:
    """The same YAML document written another way: JSON, flow style, or every key quoted."""
    import io

    from drills.core.yaml_locate import to_plain

    data = to_plain(YAML(typ="rt").load(text))
    if style == "json":
        return json.dumps(data)
    if style == "json-indented":
        return json.dumps(data, indent=2)
    out = io.StringIO()
    writer = YAML()
    writer.default_flow_style = style == "flow"
    writer.default_style = "'" if style == "single-quoted" else '"' if style == "double-quoted" else None
    writer.dump(data, out)
    return out.getvalue()


STYLES = ["block", "flow", "json", "json-indented", "single-quoted", "double-quoted"]


@pytest.mark.parametrize("style", STYLES)
def test_an_exploration_is_told_from_a_scenario_however_its_keys_are_written(tmp_path, style):
    # issue 19: `"fault_space":` or `{fault_space: ...}` was read as a scenario (unknown field
    # 'fault_space', steps missing): the kinds were told apart by lines that start `fault_space:`.
    from tests.unit.test_scenario import GOOD

    text = _styled(VALID, style)
    assert style == "block" or "\nfault_space:" not in text
    path = write(tmp_path, text)
    assert looks_like_exploration_file(path)
    result = CliRunner().invoke(validate, [str(path)])
    assert result.exit_code == 0 and "1 exploration file(s) valid" in result.output, result.output
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(_styled(GOOD, style))
    assert not looks_like_exploration_file(scenario)


@given(st.sampled_from(STYLES), st.sampled_from(["", "# a comment: with a colon\n", "---\n", "%YAML 1.2\n---\n"]),
       st.sampled_from(["", "...\n", "---\nfault_space: {}\n"]))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_only_the_first_documents_top_level_keys_count(tmp_path, style, head, tail):
    from tests.unit.test_scenario import GOOD

    exploration, scenario = write(tmp_path, head + _styled(VALID, style) + "\n" + tail), tmp_path / "s.yaml"
    scenario.write_text(head + _styled(GOOD, style) + "\n" + tail)  # a second document is not read
    assert looks_like_exploration_file(exploration)
    assert not looks_like_exploration_file(scenario)


def test_drill_validate_reads_explorations_beside_scenarios(tmp_path):
    ok = CliRunner().invoke(validate, [str(EXAMPLE), str(ROOT / "scenarios" / "postgres-leader-kill.yaml")])
    assert ok.exit_code == 0, ok.output
    assert "1 scenario file(s) and 1 exploration file(s) valid" in ok.output
    bad = CliRunner().invoke(validate, [str(write(tmp_path, VALID.replace("kind: kill", "kind: kil")))])
    assert bad.exit_code == 2
    assert "exploration.yaml:7:13: fault_space.faults[0].kind: must be one of" in bad.output


def test_the_json_schema_accepts_the_example_and_is_what_drill_schema_prints():
    printed = CliRunner().invoke(schema, ["--exploration"])
    assert printed.exit_code == 0
    assert json.loads(printed.output) == exploration_json_schema()
    data = YAML(typ="safe").load(EXAMPLE.read_text())
    jsonschema.validate(data, exploration_json_schema())
    data["fault_space"]["faults"][0]["kind"] = "kil"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, exploration_json_schema())


def test_drill_explore_refuses_an_invalid_file_with_exit_2(tmp_path):
    from drills.cli.main import main

    path = write(tmp_path, VALID.replace("kind: kill", "kind: kil"))
    with pytest.raises(SystemExit) as caught:
        main(["explore", str(path)])
    assert caught.value.code == 2


def test_every_value_a_schedule_may_draw_is_checked_as_its_step(tmp_path):
    """A restore by snapshot from a schedule of dumps is refused at that value, not only the first."""
    text = VALID.replace("kind: kill", "kind: restore-backup").replace("targets: [postgres.leader]",
                                                                       "targets: [postgres.*]\n"
                                                                       "      with: {method: [dump, snapshot]}")
    text = text.replace("fault_space:", "backup: {component: postgres, method: dump}\nfault_space:")
    _, problems = check_exploration_file(write(tmp_path, text))
    assert [(p.line, p.column, p.field) for p in problems] == [(10, 29, "fault_space.faults[0].with.method[1]")]
    assert "restore with method: dump" in problems[0].message


def test_a_combination_a_kind_refuses_is_skipped_and_one_never_drawable_is_refused(tmp_path):
    """postgres.* cut from postgres.* is never drawn while other values or targets remain; a value
    or target left in no drawable combination is a mistake of the file, at its line."""
    space = ("    - kind: partition\n      targets: [TARGETS]\n      with:\n        from: [FROM]\n")
    base = VALID.replace("    - kind: kill\n      targets: [postgres.leader]\n", space)
    ok = base.replace("TARGETS", "postgres.leader, postgres.*").replace("FROM", "[postgres.*], [clients]")
    assert check_exploration_file(write(tmp_path, ok))[1] == []
    value = base.replace("TARGETS", "postgres.*").replace("FROM", "[clients], [postgres.*]")
    _, problems = check_exploration_file(write(tmp_path, value))
    assert [(p.line, p.field) for p in problems] == [(10, "fault_space.faults[0].with.from[1]")]
    assert "nothing to cut it from" in problems[0].message
    target = base.replace("TARGETS", "postgres.leader, postgres.*").replace("FROM", "[postgres.*]")
    _, problems = check_exploration_file(write(tmp_path, target))
    assert [(p.line, p.field) for p in problems] == [(8, "fault_space.faults[0].targets[1]")]


def test_a_target_that_is_no_role_is_reported_once(tmp_path):
    text = VALID.replace("targets: [postgres.leader]", "targets: [postgres.leader, postgres.boss]")
    _, problems = check_exploration_file(write(tmp_path, text))
    assert [(p.line, p.column, p.field) for p in problems] == [(8, 34, "fault_space.faults[0].targets[1]")]


# ---- issue 19: the cross-field checks read a bounded number of values --------------------------------

ROLES = ["postgres.*", "etcd.*", "clients", "etcd1", "etcd2", "pg1", "pg2", "postgres.leader", "postgres.replica"]


def _space(targets: list[str], froms: list[list[str]]) -> str:
    shown = ", ".join("[" + ", ".join(f) + "]" for f in froms)
    return VALID.replace("    - kind: kill\n      targets: [postgres.leader]\n",
                         f"    - kind: partition\n      targets: [{', '.join(targets)}]\n"
                         f"      with:\n        from: [{shown}]\n        direction: [both, in, out]\n")


def _counting_partition_checks(monkeypatch) -> list[int]:
    """The values each call of partition's cross-field checks reads (its target and `from`)."""
    import dataclasses

    from drills.faults.registry import FAULTS

    read: list[int] = []
    fault = FAULTS["partition"]

    def counted(step, view):
        read.append(1 + len(step.get("from") or ()))
        return fault.problems(step, view)

    monkeypatch.setitem(FAULTS, "partition", dataclasses.replace(fault, problems=counted))
    return read


def test_a_huge_fault_space_is_checked_in_part_and_says_so(tmp_path, monkeypatch):
    # 1,500 targets by `from` lists of 1,000 roles: the checks read 4 million values (16-60 s).
    from drills.files.exploration import MAX_CHECKED_VALUES

    read = _counting_partition_checks(monkeypatch)
    text = _space([f"pg{i}" for i in range(1500)], [[ROLES[(i + k) % len(ROLES)] for k in range(1000)]
                                                    for i in range(3)])
    exploration, problems = check_exploration_file(write(tmp_path, text))
    assert sum(read) <= MAX_CHECKED_VALUES
    assert exploration is None
    assert [(p.line, p.field) for p in problems] == [(7, "fault_space.faults[0].kind")]
    assert "too many combinations of targets and values to check (13,500" in problems[0].message


def test_a_large_space_whose_every_value_is_drawable_is_valid_without_reading_every_combination(tmp_path,
                                                                                              monkeypatch):
    from drills.files.exploration import MAX_CHECKED_VALUES

    read = _counting_partition_checks(monkeypatch)
    text = _space([f"pg{i}" for i in range(60)], [[ROLES[(i + k) % 7] for k in range(40)] for i in range(100)])
    exploration, problems = check_exploration_file(write(tmp_path, text))
    assert problems == [] and exploration is not None
    assert sum(read) <= MAX_CHECKED_VALUES < 60 * 100 * 3 * 41, "not every combination was read"


def test_a_value_refused_in_every_combination_checked_of_a_large_space_says_how_many_were_checked(tmp_path):
    froms = [[ROLES[(i + k) % 7] for k in range(40)] for i in range(100)] + [["postgres.*"]]
    text = _space(["postgres.*", "postgres"] * 30, froms)  # each cut from `postgres.*`: nothing to cut it from
    _, problems = check_exploration_file(write(tmp_path, text))
    assert [(p.line, p.field) for p in problems] == [(10, "fault_space.faults[0].with.from[100]")]
    assert re.search(r"nothing to cut it from.* \(in each of the [0-9,]+ combinations checked, of 18,180: list fewer "
                     r"or shorter values", problems[0].message), problems[0].message


@given(st.lists(st.sampled_from(ROLES), min_size=1, max_size=4),
       st.lists(st.lists(st.sampled_from(ROLES), min_size=1, max_size=3), min_size=1, max_size=4),
       st.lists(st.sampled_from(["both", "in", "out"]), min_size=1, max_size=3))
@settings(max_examples=150, deadline=None)
def test_within_the_bound_the_checks_find_what_every_combination_would(targets, froms, directions):
    import itertools

    from drills.files.exploration import check_combinations, refused, view_of

    view = view_of({})
    values = {"from": list(enumerate(froms)), "direction": list(enumerate(directions))}
    combos = check_combinations("partition", list(enumerate(targets)), values, view)
    every = list(itertools.product(enumerate(targets), enumerate(froms), enumerate(directions)))
    accepted = [c for c in every if not refused("partition", {"target": c[0][1], "from": c[1][1],
                                                              "direction": c[2][1]}, view)]
    assert combos.complete and combos.total == combos.checked == len(every)
    assert combos.refused == len(every) - len(accepted)
    drawable = {p for (j, _), (f, _), (d, _) in accepted
                for p in (("targets", j), ("with", "from", f), ("with", "direction", d))}
    assert set(combos.witness) == drawable
    for part, step in combos.witness.items():  # a step the kind accepts, holding that target or value
        assert not refused("partition", step, view)
        held = targets[part[1]] if part[0] == "targets" else values[part[1]][part[2]][1]
        assert step["target" if part[0] == "targets" else part[1]] == held


def test_no_step_model_checks_one_field_against_another():
    """The combinations of a fault space run the kinds' cross-field checks only: each value was
    checked by the step's model on its own, which holds only while no model checks fields together."""
    from drills.faults.registry import FAULTS

    for kind, fault in FAULTS.items():
        decorators = fault.step.__pydantic_decorators__
        assert not decorators.model_validators and not decorators.field_validators, kind
