"""A backup that keeps failing says why: the wait of a restore drill for its first backup, and the
rpo verdict of a schedule that never completed one, carry the attempts' own errors ("26 of 26
attempts failed, all with: ..."), not only "never reached a steady state"."""

from __future__ import annotations

import re
import time
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drills.backup.catalog import Catalog
from drills.backup.model import MOST_ERRORS_SHOWN, NO_ERROR, Backup, attempts_text, failed_with
from drills.backup.schedule import BackupSchedule
from drills.backup.target import BackupStack
from drills.checkers.rpo import check_rpo
from drills.checkers.verdict import Status
from drills.core.errors import DrillsError
from drills.core.history import MemoryHistory
from drills.files.scenario import load_scenario
from drills.run.runner import Drill

ROOT = Path(__file__).resolve().parents[2]
ROLE = 'OperationalError: connection failed: FATAL:  role "postgres" does not exist'


def backup(i: int, ok: bool, error: str | None) -> Backup:
    return Backup(f"b{i}", "postgres", "dump", i * 5.0, i * 5.0 + 1, ok, error=error)


def test_attempts_that_all_said_the_same_say_it_once():
    backups = [backup(i, False, ROLE) for i in range(26)]
    assert attempts_text(backups, 26) == f"26 of 26 attempts failed, all with: {ROLE}"
    assert attempts_text(backups, 27) == f"26 of 27 attempts failed, all with: {ROLE}; 1 still running"


def test_distinct_errors_are_counted_the_most_frequent_first():
    backups = [backup(0, False, "timeout"), *[backup(i, False, ROLE) for i in range(1, 4)], backup(4, False, None)]
    assert failed_with(backups) == f"3 distinct errors: 3 x {ROLE}; 1 x timeout; 1 x {NO_ERROR}"


def test_no_attempt_ended_is_said_as_such():
    assert attempts_text([], 1) == "0 of 1 attempts failed; 1 still running"
    assert failed_with([backup(0, True, None)]) == ""


@given(st.lists(st.tuples(st.booleans(), st.sampled_from(["a", "b", "c", "d", "e", "", None])), max_size=30))
def test_every_failure_is_counted_once_and_every_error_named_up_to_the_limit(attempts):
    backups = [backup(i, ok, error) for i, (ok, error) in enumerate(attempts)]
    failed = [b for b in backups if not b.ok]
    distinct = {(b.error or "") or NO_ERROR for b in failed}
    text = failed_with(backups)
    if not failed:
        assert text == ""
    elif len(distinct) == 1:
        assert text == f"all with: {distinct.pop()}"
    else:
        counts = [int(n) for n in re.findall(r"(\d+) x ", text)]
        rest = re.search(r"and (\d+) with (\d+) other errors?$", text)
        assert sum(counts) + (int(rest[1]) if rest else 0) == len(failed)
        assert len(counts) == min(len(distinct), MOST_ERRORS_SHOWN) and counts == sorted(counts, reverse=True)
        assert text.startswith(f"{len(distinct)} distinct errors: ")
    assert attempts_text(backups, len(backups)).startswith(f"{len(failed)} of {len(backups)} attempts failed")


def test_the_rpo_verdict_of_a_schedule_that_never_completed_says_why():
    backups = [backup(i, False, ROLE) for i in range(3)]
    v = check_rpo([], "postgres.write", set(), backups, None, failure_at=20.0, rate=20.0, interval_s=5.0)
    assert v.status is Status.FAIL and f"all with: {ROLE}" in v.observed


def test_a_restore_drill_whose_backups_keep_failing_stops_with_their_error(tmp_path):
    """The runner's wait for the first backup, on a real schedule whose every attempt fails the same
    way: the error names the attempts and what they said, and what to do."""
    def take(*_):
        raise OSError(ROLE)

    schedule = BackupSchedule(cast("BackupStack", None), Catalog("p", MemoryHistory(), time.monotonic, tmp_path),
                              component="postgres", method="dump", interval_s=0.01, take=take)
    scenario = load_scenario(ROOT / "scenarios" / "postgres-global-failure-restore-dump.yaml")
    scenario = scenario.model_copy(update={"recovery": scenario.recovery.model_copy(update={"timeout": 0.3})})
    drill = SimpleNamespace(backups=schedule, s=scenario, now=time.monotonic)
    schedule.start()
    try:
        with pytest.raises(DrillsError) as err:
            Drill._wait_for_a_backup(cast("Drill", drill), SimpleNamespace(detail=""))
    finally:
        schedule.stop()
    message = str(err.value.args[0])
    assert message.startswith("no backup completed within 0.3 s after the steady phase: ")
    assert re.search(rf"(\d+) of \d+ attempts failed, all with: OSError: {re.escape(ROLE)}", message), message
    assert "drill schema --stack" in (err.value.hint or "")
