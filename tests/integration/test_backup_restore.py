"""The PostgreSQL dump-restore drill for real: scheduled pg_dumps while writing, a global failure
(every node and disk destroyed), a new cluster restored from the last dump. It must show that
the restore reports matching checksums, and a measured RPO within what the schedule, as measured
in the same run, promises.

Brings up its own stack in a session (`drills.run.session.run_scenarios`, as `drill run` does) and takes it
down.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from drills.files.scenario import load_scenario

pytestmark = [pytest.mark.docker, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "postgres-global-failure-restore-dump.yaml"


def test_dump_restore_drill_matches_checksums_and_bounds_the_rpo(tmp_path: Path) -> None:
    from drills.run.session import run_scenarios

    scenario = load_scenario(SCENARIO)
    assert scenario.backup is not None
    [result] = run_scenarios([(SCENARIO, scenario)], project=None, reports_dir=tmp_path)
    verdicts = {v.checker: v for v in result.verdicts}
    assert result.status == "passed", [f"{v.name}: {v.observed}" for v in result.verdicts] or result.reason

    integrity = verdicts["backup-integrity"].measured
    assert integrity["backup_checksum"] == integrity["restored_checksum"]
    assert integrity["backup_rows"] == integrity["restored_rows"] > 0
    assert integrity["rto_s"] is not None and integrity["rto_s"] > 0

    rpo, bound = verdicts["rpo"].measured, verdicts["rpo"].bound
    rate = scenario.workload["postgres.write"].rate
    # The bound is the schedule's promise as this run measured it: a slot plus the longest backup.
    assert bound["max_rpo_s"] >= scenario.backup.interval + rpo["backup_duration_max_s"] - 1e-3
    assert rpo["lost_before_backup"] == 0 and rpo["lost_after_restore"] == 0
    assert 0 < rpo["rpo_s"] <= bound["max_rpo_s"]
    assert rpo["lost_after_backup"] <= rate * (bound["max_rpo_s"] + rpo["failure_course_s"]) + 1
    assert rpo["backups_failed"] == 0  # a failure on the healthy stack would be a missed recovery point
    assert (result.out_dir / "backups").is_dir()
