"""An exploration for every component (explorations/*.yaml): each is valid, fits the reference stack
(every role its fault space may draw, and its fixed steps, are there; no invariant left out), and
`describe` says what it draws. The backup exploration's fixed steps (`fault_space.then`) follow
every drawn schedule, and its RPO is judged from the global failure, not from the drawn faults
before it. No Docker: the reference stack is read from its files."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from drills.checkers.backup_integrity import restored_failure
from drills.cli.scenario import validate
from drills.components._mongo_image import MONGO_IMAGE
from drills.core.history import Event
from drills.explore.runner import fit_of_space
from drills.explore.schedule import scenario_of, scenario_yaml
from drills.explore.space import describe, witness_steps
from drills.explore.strategy import DrawnStep, rank_targets
from drills.files.exploration import check_exploration_file, load_exploration
from drills.files.scenario import load_scenario
from tests.unit.test_run_on_project_stack import defined_services, reference_stack

ROOT = Path(__file__).resolve().parents[2]
EXPLORATIONS = sorted((ROOT / "explorations").glob("*.yaml"))
COMPONENTS = {"postgres-failover": "postgres", "rabbitmq-cluster": "rabbitmq", "app-tier": "app",
              "backup-restore": "postgres"}


def test_every_component_has_an_exploration_and_drill_validate_accepts_them_all():
    assert {p.stem for p in EXPLORATIONS} == set(COMPONENTS)
    result = CliRunner().invoke(validate, [str(ROOT / "explorations")])
    assert result.exit_code == 0, result.output
    assert f"{len(EXPLORATIONS)} exploration file(s) valid" in result.output


@pytest.mark.parametrize("path", EXPLORATIONS, ids=lambda p: p.stem)
def test_each_exploration_loads_with_every_invariant_explained(path: Path):
    exploration, problems = check_exploration_file(path)
    assert problems == [] and exploration is not None
    assert exploration.component == COMPONENTS[path.stem]
    assert all(len(inv.why.split()) >= 20 for inv in exploration.invariants)


@pytest.mark.parametrize("path", EXPLORATIONS, ids=lambda p: p.stem)
def test_each_exploration_s_witness_steps_fit_the_reference_stack(path: Path):
    """Every target and value a schedule may draw is in a witness step, and the stack `drill stack
    up` brings up has every role they name: nothing is NOT RUN, no invariant left out."""
    exploration = load_exploration(path)
    steps = witness_steps(exploration)
    drawn = {t for choice in exploration.fault_space.faults for t in rank_targets(choice.targets)}
    assert {s.target for s in steps} == drawn
    assert fit_of_space(exploration, reference_stack(left_out={}), defined_services((MONGO_IMAGE.profile,))) \
        == ("", [])


@pytest.mark.parametrize("path", EXPLORATIONS, ids=lambda p: p.stem)
def test_describe_prints_every_kind_target_and_invariant(path: Path):
    exploration = load_exploration(path)
    text = "\n".join(describe(exploration))
    assert text.startswith(f"exploration {exploration.id}: ")
    for choice in exploration.fault_space.faults:
        low, high = exploration.hold_of(choice)
        assert f"  {choice.kind} on {', '.join(rank_targets(choice.targets))}; hold {low}-{high} s" in text
    assert all(inv.checker in text.splitlines()[-1] for inv in exploration.invariants)


def test_rabbitmq_explores_one_node_at_a_time_and_never_freezes_one_past_net_ticktime():
    """A freeze past net_ticktime (10 s) needs the policy's respawn (scenarios/rabbitmq-node-pause.yaml)."""
    exploration = load_exploration(ROOT / "explorations" / "rabbitmq-cluster.yaml")
    space = exploration.fault_space
    assert {c.kind for c in space.faults} == {"kill", "pause", "partition", "disk-loss"}
    assert not space.overlap
    pause = next(c for c in space.faults if c.kind == "pause")
    assert exploration.hold_of(pause)[1] < 10
    assert {inv.checker for inv in exploration.invariants} == {"queue", "resync", "back-after-heal"}
    queue = next(inv for inv in exploration.invariants if inv.checker == "queue")
    assert queue.model_dump()["max_lost"] == 0


def test_the_app_tier_hits_one_instance_at_a_time_of_every_app_service():
    exploration = load_exploration(ROOT / "explorations" / "app-tier.yaml")
    assert not exploration.fault_space.overlap
    targets = {t for c in exploration.fault_space.faults for t in c.targets}
    assert {"dashboard[0]", "dashboard[1]", "worker[0]", "worker[1]", "scheduler", "mailer", "connector"} <= targets


def test_the_backup_exploration_ends_every_schedule_with_the_global_failure_and_the_restore(tmp_path: Path):
    exploration = load_exploration(ROOT / "explorations" / "backup-restore.yaml")
    drawn = [DrawnStep("kill", "postgres.leader", 4)]
    data = scenario_of(exploration, drawn)
    assert [s["fault"] for s in data["steps"]] == ["kill", "total-failure", "restore-backup"]
    assert data["steps"][1]["hold"] == "3s" and data["steps"][2]["method"] == "dump"
    written = tmp_path / "drawn.yaml"
    written.write_text(scenario_yaml(data))
    scenario = load_scenario(written)
    assert [s.fault for s in scenario.steps] == ["kill", "total-failure", "restore-backup"]
    assert describe(exploration)[-2] == ("then, after every schedule: total-failure postgres.* heal=True 3s; "
                                         "restore-backup postgres.* method=dump 0s")


def test_a_fixed_step_gets_its_kind_s_cross_field_checks_where_it_is_written(tmp_path: Path):
    text = (ROOT / "explorations" / "backup-restore.yaml").read_text()
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(text.replace("      method: dump\n      hold: 0s", "      method: snapshot\n      hold: 0s"))
    _, problems = check_exploration_file(wrong)
    assert [(p.field, p.message) for p in problems] == [
        ("fault_space.then[1].method", "the backups are taken by dump, so restore with method: dump")]


def test_a_fixed_step_of_no_known_kind_is_refused_by_the_schema(tmp_path: Path):
    text = (ROOT / "explorations" / "backup-restore.yaml").read_text()
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(text.replace("fault: restore-backup", "fault: restore-bakup"))
    _, problems = check_exploration_file(wrong)
    assert problems and all(p.field.startswith("fault_space.then[1]") for p in problems)


def _events(drawn: list[tuple[float, float]], failure: tuple[float, float], restore_at: float) -> list[Event]:
    """Inject phases and applied faults: each (inject began, applied), the global failure last."""
    events = []
    for began, applied in [*drawn, failure]:
        events += [Event("inject", began, {}), Event("fault", applied, {"kind": "k", "target": "t", "resolved": []})]
    events += [Event("inject", restore_at - 0.1, {}), Event("restore-start", restore_at, {"backup_id": "b1"}),
               Event("fault", restore_at + 5, {"kind": "restore-backup", "target": "postgres.*", "resolved": []})]
    return events


@settings(max_examples=50)
@given(st.lists(st.tuples(st.floats(0, 5), st.floats(0.1, 2)), max_size=3), st.floats(0.1, 5), st.floats(1, 10))
def test_the_restore_is_judged_from_the_failure_it_recovers_from(gaps, course, wait):
    """Whatever the drawn faults before it, the failure is the last fault applied before the restore."""
    drawn, t = [], 1.0
    for gap, took in gaps:
        drawn.append((t + gap, t + gap + took))
        t = t + gap + took + 1.0
    failure = (t + 1.0, t + 1.0 + course)
    assert restored_failure(_events(drawn, failure, failure[1] + wait)) == failure


def test_without_a_restore_the_failure_is_the_first_injection():
    events = [Event("inject", 2.0, {}), Event("fault", 2.5, {"kind": "kill", "target": "t", "resolved": []}),
              Event("inject", 9.0, {}), Event("fault", 9.5, {"kind": "kill", "target": "t", "resolved": []})]
    assert restored_failure(events) == (2.0, 2.5)
    assert restored_failure([]) == (None, None)
