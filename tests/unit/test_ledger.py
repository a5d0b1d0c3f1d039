import dataclasses
import json
import os
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drills.core import local_state
from drills.faults import ledger
from drills.faults.netem import Latency, Loss
from drills.faults.partition import rules_for
from drills.faults.process import Unpause


@pytest.fixture(autouse=True)
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))


def entry(fid: str, project: str = "drills-x") -> ledger.Entry:
    return ledger.Entry(fault_id=fid, kind="pause", project=project,
                        heal=(Unpause("c1"),))


def test_applied_faults_stay_pending_until_healed():
    ledger.record_applying(entry("f1"))
    ledger.record_applying(entry("f2"))
    assert [e.fault_id for e in ledger.pending("drills-x")] == ["f1", "f2"]
    ledger.record_healed("drills-x", "f1")
    assert [e.fault_id for e in ledger.pending("drills-x")] == ["f2"]
    assert ledger.pending("drills-other") == []


def test_a_line_torn_by_a_crash_is_ignored():
    ledger.record_applying(entry("f1"))
    with ledger.ledger_path("drills-x").open("a") as fh:
        fh.write('{"state": "applying", "fault_id": "f2", "ki')
    assert [e.fault_id for e in ledger.pending("drills-x")] == ["f1"]


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.booleans()), max_size=20))
def test_pending_is_applied_minus_healed(events):
    project = f"drills-{abs(hash(tuple(events)))}"
    local_state.forget(project)
    applied: list[str] = []
    for fid, healed in events:
        if healed:
            ledger.record_healed(project, fid)
            if fid in applied:
                applied.remove(fid)
        else:
            ledger.record_applying(entry(fid, project))
            if fid not in applied:
                applied.append(fid)
    assert sorted(e.fault_id for e in ledger.pending(project)) == sorted(applied)
    local_state.forget(project)


def test_dead_and_live_owners():
    assert local_state.pid_alive(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not local_state.pid_alive(child.pid)
    local_state.register_owner("drills-y", "run")
    [owner] = [o for o in local_state.owners() if o.project == "drills-y"]
    assert owner.pid == os.getpid() and owner.kind == "run"
    local_state.forget("drills-y")
    assert all(o.project != "drills-y" for o in local_state.owners())


def test_a_fault_is_orphaned_only_once_the_process_that_applied_it_is_gone():
    # A drill against a `drill stack up` stack: the project's owner (`drill stack up`) is long gone,
    # but the drill applying the fault is alive and heals it itself; a cleanup must not.
    ledger.record_applying(entry("mine"))
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    ledger.record_applying(dataclasses.replace(entry("dead"), pid=child.pid))
    assert {e.fault_id: e.pid for e in ledger.pending("drills-x")} == {"mine": os.getpid(), "dead": child.pid}
    assert [e.fault_id for e in ledger.orphaned("drills-x", owner_alive=False)] == ["dead"]
    assert [e.fault_id for e in ledger.orphaned("drills-x", owner_alive=True)] == ["dead"]


def test_an_entry_that_names_no_process_follows_its_owner():
    with ledger.ledger_path("drills-x").open("a") as fh:  # a ledger written before entries named one
        fh.write(json.dumps({"state": "applying", "fault_id": "old", "kind": "pause", "project": "drills-x",
                             "heal": [], "applied_at": 1.0}) + "\n")
    [old] = ledger.pending("drills-x")
    assert old.pid is None
    assert ledger.orphaned("drills-x", owner_alive=True) == []
    assert ledger.orphaned("drills-x", owner_alive=False) == [old]


def test_partition_rules_cover_each_direction():
    both = rules_for(["10.0.0.2"], "both", "drills-p")
    assert [r[0] for r in both] == ["INPUT", "OUTPUT"]
    assert rules_for(["10.0.0.2", "10.0.0.3"], "in", "t") == [
        ("INPUT", "-s", "10.0.0.2", "-m", "comment", "--comment", "t", "-j", "DROP"),
        ("INPUT", "-s", "10.0.0.3", "-m", "comment", "--comment", "t", "-j", "DROP"),
    ]
    assert all(r[0] == "OUTPUT" and r[1] == "-d" for r in rules_for(["1.2.3.4"], "out", "t"))
    with pytest.raises(Exception, match="direction"):
        rules_for(["1.2.3.4"], "sideways", "t")


def test_netem_arguments():
    assert Latency(fault="latency", target="pg1", delay=0.1, jitter=0.02).netem_args() == ["delay", "100.0ms", "20.0ms"]
    assert Latency(fault="latency", target="pg1", delay=0.05).netem_args() == ["delay", "50.0ms"]
    assert Loss(fault="loss", target="pg1", percent=5).netem_args() == ["loss", "5.0%"]
    assert Loss(fault="loss", target="pg1", percent=1.5).netem_args() == ["loss", "1.5%"]
