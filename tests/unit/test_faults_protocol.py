"""The fault protocol without containers: one registry, typed steps and heal actions, old ledgers."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import time
import typing
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drills.backup.catalog import Catalog
from drills.backup.model import Backup
from drills.core import local_state
from drills.core.errors import FaultError
from drills.core.history import MemoryHistory
from drills.faults import heal, ledger, registry
from drills.faults.actions import HealAction, UnknownAction
from drills.faults.base import Fault, FaultContext, apply
from drills.faults.netem import TcRemove
from drills.faults.partition import IptablesRemove, NetworkConnect
from drills.faults.process import Start, Unpause
from drills.faults.restore import RestoreBackup, restore_backup
from drills.faults.step import StepBase
from drills.faults.storage import ComposeUp
from drills.files import scenario, scenario_schema
from drills.files.scenario import FAULT_KINDS, Scenario, scenario_json_schema
from drills.records.journal import FaultRecord
from drills.run import runner

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))


def test_every_registered_kind_has_a_step_model_an_inject_and_a_heal():
    assert registry.ALL, "no fault kind registered"
    for kind, fault in registry.FAULTS.items():
        assert isinstance(fault, Fault)
        assert issubclass(fault.step, StepBase) and fault.kind == kind
        assert typing.get_args(fault.step.model_fields["fault"].annotation) == (kind,)
        params = list(inspect.signature(fault.inject).parameters)
        assert len(params) == 2, f"{kind}: inject(step, ctx), got {params}"
        assert fault.heals, f"{kind} has no heal action"
        assert all(issubclass(a, HealAction) and a is not UnknownAction for a in fault.heals)


def test_the_schemas_kinds_are_the_registrys():
    assert tuple(registry.FAULTS) == FAULT_KINDS
    assert tuple(f.step for f in registry.ALL) == scenario_schema.STEP_MODELS
    step_union = typing.get_args(Scenario.model_fields["steps"].annotation)[0]
    members = typing.get_args(typing.get_args(step_union)[0])
    assert set(members) == set(scenario_schema.STEP_MODELS)
    schema_kinds = {d["properties"]["fault"]["const"] for d in scenario_json_schema()["$defs"].values()
                    if "fault" in d.get("properties", {})}
    assert schema_kinds == set(registry.FAULTS)


def test_each_heal_action_name_belongs_to_one_class():
    by_name: dict[str, set[type[HealAction]]] = {}
    for fault in registry.ALL:
        for action in fault.heals:
            by_name.setdefault(action.kind, set()).add(action)
    assert {name: len(classes) for name, classes in by_name.items()} == {name: 1 for name in by_name}
    assert set(by_name) == set(registry.HEAL_ACTIONS)


@pytest.mark.parametrize("module", [runner, scenario], ids=lambda m: m.__name__)
def test_neither_the_runner_nor_validation_names_a_fault_kind(module):
    # What a kind needs of the drill (a completed backup) or of the file (a `backup:` section that
    # fits it) is its Fault's to say: a new kind touches its own module only.
    source = inspect.getsource(module)
    assert [kind for kind in registry.FAULTS if f'"{kind}"' in source] == []


# ---- heal actions: typed, and the ledger's JSON unchanged ----------------------------------------

# Ledger lines as earlier versions wrote them: they must still be read, and healed.
OLD_LINES = [
    {"action": "start", "container": "drills-x-pg1-1"},
    {"action": "unpause", "container": "drills-x-pg2-1"},
    {"action": "iptables-remove", "container": "drills-x-pg1-1",
     "rules": [["INPUT", "-s", "172.30.0.22", "-m", "comment", "--comment", "drills-0-p", "-j", "DROP"]]},
    {"action": "tc-remove", "container": "drills-x-rabbit1-1", "device": "eth0"},
    {"action": "network-connect", "container": "drills-x-pg1-1", "network": "drills-x_stack", "ip": "172.30.0.21",
     "aliases": ["pg1"]},
    {"action": "network-connect", "container": "drills-x-pg1-1", "network": "drills-x_stack"},
    {"action": "compose-up", "services": ["pg1", "pg2", "pg3"]},
]


@pytest.mark.parametrize("line", OLD_LINES, ids=lambda line: line["action"])
def test_old_ledger_lines_read_as_typed_actions_and_write_back_the_same(line):
    action = registry.heal_action(line)
    assert not isinstance(action, UnknownAction)
    assert action.kind == line["action"]
    written = action.to_json()
    assert {k: v for k, v in written.items() if v is not None} == line
    assert registry.heal_action(json.loads(json.dumps(written))) == action


def test_the_actions_faults_build_serialise_as_before():
    assert Start("c").to_json() == {"action": "start", "container": "c"}
    assert Unpause("c").to_json() == {"action": "unpause", "container": "c"}
    assert TcRemove("c", "eth0").to_json() == {"action": "tc-remove", "container": "c", "device": "eth0"}
    assert json.loads(json.dumps(ComposeUp(("pg1", "pg2")).to_json())) == {"action": "compose-up",
                                                                           "services": ["pg1", "pg2"]}
    rule = ("INPUT", "-s", "10.0.0.2")
    assert json.loads(json.dumps(IptablesRemove("c", (rule,)).to_json())) == {
        "action": "iptables-remove", "container": "c", "rules": [list(rule)]}
    assert NetworkConnect("c", "n").to_json()["action"] == "network-connect"


@given(st.lists(st.sampled_from(OLD_LINES), max_size=6), st.integers(1, 2**22))
def test_an_entry_round_trips_through_the_ledger(lines, pid):
    project = f"drills-rt-{abs(hash((json.dumps(lines), pid)))}"
    entry = ledger.Entry("f1", "kill", project, tuple(registry.heal_action(a) for a in lines), 1.5, pid)
    ledger.record_applying(entry)
    assert ledger.pending(project) == [entry]
    raw = json.loads(ledger.ledger_path(project).read_text().splitlines()[-1])
    assert raw == {"state": "applying", "fault_id": "f1", "kind": "kill", "project": project,
                   "heal": [a.to_json() for a in entry.heal], "applied_at": 1.5, "pid": pid}
    local_state.forget(project)


def test_an_unknown_action_is_kept_and_never_taken_for_healed():
    line = {"action": "route-restore", "container": "c9", "table": 7}
    with ledger.ledger_path("drills-u").open("a") as fh:
        fh.write(json.dumps({"state": "applying", "fault_id": "u1", "kind": "route", "project": "drills-u",
                             "heal": [line, {"action": "start"}], "applied_at": 1.0, "pid": None}) + "\n")
    [entry] = ledger.pending("drills-u")
    assert [type(a) for a in entry.heal] == [UnknownAction, UnknownAction]  # `start` without its container too
    assert entry.heal[0].to_json() == line
    with pytest.raises(FaultError, match="route-restore c9: unknown heal action"):
        heal.heal_entry(None, entry)  # type: ignore[arg-type]  # raises before it needs an engine
    assert ledger.pending("drills-u") == [entry], "still pending: `drill clean` reports it again"


def test_the_journal_records_a_fault_as_before():
    record = FaultRecord("0-kill-abc123", "kill", "postgres.leader", ["pg1"], 5.0)
    assert record.to_json() == {"id": "0-kill-abc123", "kind": "kill", "target": "postgres.leader",
                                "resolved": ["pg1"], "injected_s": 5.0}
    record.healed_s = 15.2
    assert record.to_json()["healed_s"] == 15.2


class Project:
    """All `apply` asks of the stack: its project name."""

    project = "drills-apply"


def test_the_heal_is_in_the_ledger_before_the_fault_touches_anything():
    seen = []

    def do():
        seen.append([e.fault_id for e in ledger.pending("drills-apply")])
        raise RuntimeError("the fault failed halfway")

    with pytest.raises(RuntimeError):
        apply(FaultContext(Project(), "a1"), "pause", [Unpause("c1")], do)  # type: ignore[arg-type]
    assert seen == [["a1"]], "written (and read back) before do() ran"
    [entry] = ledger.pending("drills-apply")
    assert entry.heal == (Unpause("c1"),), "a fault that failed halfway stays pending, to be healed"


# ---- the context object ----------------------------------------------------------------------------


class NoStack:
    """A stack restore-backup must not reach: it refuses before touching anything."""

    project = "drills-none"

    def __getattr__(self, name):
        raise AssertionError(f"restore-backup touched the stack ({name}) without a backup to restore")


def test_restore_finds_its_backups_in_the_context_and_refuses_without_one(tmp_path):
    step = RestoreBackup(fault="restore-backup", target="postgres.*")
    with pytest.raises(FaultError, match="no successful postgres dump backup"):
        restore_backup(step, FaultContext(NoStack(), "r1"))  # type: ignore[arg-type]
    history = MemoryHistory()
    catalog = Catalog("drills-none", history, time.monotonic, tmp_path)
    catalog.add(Backup("mongo-dump-001", "mongo", "dump", 1.0, 2.0, True))
    with pytest.raises(FaultError, match="no successful postgres dump backup"):
        restore_backup(step, FaultContext(NoStack(), "r1", backups=catalog))  # type: ignore[arg-type]
    assert ledger.pending("drills-none") == [], "refused before its ledger entry: nothing to heal"
    assert registry.FAULTS["restore-backup"].needs_backup


# ---- strict booleans ------------------------------------------------------------------------------

SCENARIO = """\
id: strict-bools
title: t
policy: p
workload:
  postgres.write: {rate: 10}
steps:
  - fault: total-failure
    target: postgres.*
    heal: 1
    keep_disks: "yes"
expectations:
  - checker: lost-writes
    signal: postgres.write
    why: w
"""


def test_drill_validate_refuses_numbers_and_strings_for_booleans(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    done = subprocess.run([sys.executable, "-m", "drills", "validate", str(path)], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{path}:9:11: steps[0].heal: must be a valid boolean (got 1)" in done.stderr
    assert f"{path}:10:17: steps[0].keep_disks: must be a valid boolean (got 'yes')" in done.stderr
    path.write_text(SCENARIO.replace("heal: 1", "heal: true").replace('keep_disks: "yes"', "keep_disks: false"))
    done = subprocess.run([sys.executable, "-m", "drills", "validate", str(path)], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
