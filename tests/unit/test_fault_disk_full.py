"""The disk-full fault without containers: its step model, sizes, and its heal action."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drills.core.errors import FaultError
from drills.faults import ledger, registry
from drills.faults.actions import HealContext
from drills.faults.disk_full import FILE_PREFIX, FILL_SCRIPT, MOUNT, DiskFull, RemoveFill, parse_size
from drills.files.scenario import load_scenario, scenario_json_schema, validate_files

SCENARIO = """\
id: replica-disk-full
title: A replica's disk fills up
policy: No service degradation is expected.
workload:
  postgres.write: {rate: 20}
steps:
  - fault: disk-full
    target: postgres.replica[0]
    max_fill: 256MiB
    hold: 10s
expectations:
  - checker: lost-writes
    signal: postgres.write
    why: a full replica must not lose what the leader acknowledged
"""


@pytest.fixture(autouse=True)
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))


@pytest.mark.parametrize(("text", "size"), [(4096, 4096), ("4096", 4096), ("256MiB", 256 << 20), ("1GiB", 1 << 30),
                                            (" 1.5 GiB ", 3 << 29), ("100MB", 100_000_000), ("64KiB", 65536)])
def test_sizes(text, size):
    assert parse_size(text) == size


@given(st.integers(0, 4096), st.sampled_from([("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("MB", 10**6)]))
def test_sizes_with_units(number, unit):
    suffix, factor = unit
    assert parse_size(f"{number}{suffix}") == number * factor


@pytest.mark.parametrize("bad", [True, "lots", "1 parsec", "-1GiB", "\u0665MiB", "1.GiB", None])
def test_bad_sizes_are_refused(bad):
    with pytest.raises(ValueError, match="size"):
        parse_size(bad)


def test_a_scenario_states_it_and_the_schema_offers_it(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    [step] = load_scenario(path).steps
    assert isinstance(step, DiskFull) and (step.target, step.max_fill, step.heal) == ("postgres.replica[0]",
                                                                                      256 << 20, True)
    assert DiskFull(fault="disk-full", target="pg2").max_fill == 1 << 30
    assert "disk-full" in registry.FAULTS and registry.FAULTS["disk-full"].heals == (RemoveFill,)
    assert "disk-full" in json.dumps(scenario_json_schema())
    path.write_text(SCENARIO.replace("max_fill: 256MiB", "max_fill: lots"))
    [problem] = validate_files([path])
    assert (problem.line, problem.field) == (9, "steps[0].max_fill") and "invalid size 'lots'" in problem.message
    path.write_text(SCENARIO.replace("max_fill: 256MiB", "max_fill: 0"))
    [problem] = validate_files([path])
    assert problem.field == "steps[0].max_fill"


def test_its_heal_action_round_trips_through_the_ledger():
    action = RemoveFill("drills-x_pg2-data", f"{FILE_PREFIX}0-disk-full-ab12cd")
    assert action.to_json() == {"action": "disk-full-remove", "volume": "drills-x_pg2-data",
                                "file": f"{FILE_PREFIX}0-disk-full-ab12cd"}
    entry = ledger.Entry("0-disk-full-ab12cd", "disk-full", "drills-x", (action,))
    ledger.record_applying(entry)
    assert ledger.pending("drills-x") == [entry]


@pytest.mark.parametrize("name", ["PG_VERSION", "pgdata", f"{FILE_PREFIX}../pgdata", f"{FILE_PREFIX}a/b", "",
                                  f"x{FILE_PREFIX}1"])
def test_the_heal_removes_only_a_file_disk_full_created(name):
    # Refused before the engine is asked anything: a tampered or mistaken ledger deletes no user file.
    with pytest.raises(FaultError, match="refusing to remove"):
        RemoveFill("drills-x_pg2-data", name).heal(HealContext(None, "drills-x"))  # type: ignore[arg-type]



def _in_a_small_tmpfs(where: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the fill script on a 4 MiB tmpfs mounted at `where` (for the helper's /data) in a private
    mount namespace: the mount goes with the namespace."""
    script = FILL_SCRIPT.replace(MOUNT, str(where))
    inner = (f'mount -t tmpfs -o size=4m tmpfs "$0" && sh -c "$1" fill {" ".join(args)}; rc=$?; '
             'ls "$0"; stat -f -c "%a %S" "$0"; exit $rc')
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", inner, str(where), script],
                          capture_output=True, text=True, timeout=60)


needs_root = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                                reason="mounting a tmpfs in a private mount namespace needs root and unshare")


@needs_root
def test_the_fill_script_takes_every_free_byte_and_no_more_than_the_cap(tmp_path):
    done = _in_a_small_tmpfs(tmp_path, "drills-disk-full-t1", str(8 << 20))
    assert done.returncode == 0, done.stderr
    result, listing, after = done.stdout.splitlines()
    assert result == f"0 {4 << 20}", "nothing left free; the file holds it all"
    assert listing == "drills-disk-full-t1" and after.split()[0] == "0"
    refused = _in_a_small_tmpfs(tmp_path, "drills-disk-full-t2", str(1 << 20))
    assert refused.returncode == 3 and "more than max_fill" in refused.stderr
    assert refused.stdout.splitlines()[0] == "1024 4096", "refused before writing anything"
