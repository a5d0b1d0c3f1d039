"""Backup and restore: records through the history, the schedule's slots, the definitions digest,
and the rpo / backup-integrity checkers on synthetic histories (Hypothesis)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drills.backup.model import (
    Backup,
    backups_from_events,
    latest_ok,
    next_slot,
    parse_digest_row,
    restore_from_events,
)
from drills.checkers.backup_integrity import check_backup_integrity
from drills.checkers.rpo import check_rpo, lost_bound
from drills.checkers.verdict import Status
from drills.components._rabbitmq_definitions import canonical, digest_of, restored_digest
from drills.core.history import Event, MemoryHistory, Op, Outcome
from drills.files.scenario import check_file

STEP = 0.02


def backup(i: int, start: float, *, ok: bool = True, rows: int = 10, checksum: str = "abc") -> Backup:
    return Backup(f"b{i}", "postgres", "dump", start, start + 0.5, ok, point_s=start + 0.1,
                  rows=rows if ok else None, max_seq=rows - 1 if ok else None, checksum=checksum if ok else None)


# ---- records --------------------------------------------------------------------------------------

backups_st = st.builds(
    Backup, id=st.text(min_size=1, max_size=8), component=st.sampled_from(["postgres", "mongo", "rabbitmq"]),
    method=st.sampled_from(["dump", "snapshot"]), started_s=st.floats(0, 1e4), ended_s=st.floats(0, 1e4),
    ok=st.booleans(), point_s=st.none() | st.floats(0, 1e4), rows=st.none() | st.integers(0, 10**9),
    max_seq=st.none() | st.integers(-1, 10**9), checksum=st.none() | st.text(max_size=32),
    size_bytes=st.none() | st.integers(0, 10**12), error=st.none() | st.text(max_size=40),
    due_s=st.none() | st.floats(0, 1e4), source_path=st.sampled_from(["", "/var/lib/postgresql/15/main"]))


@given(backups_st)
def test_backup_records_round_trip_through_events(b: Backup) -> None:
    rec = MemoryHistory()
    rec.event("backup", b.ended_s, **b.to_event_data())
    assert backups_from_events(rec.events) == [b]


def test_damaged_backup_events_are_skipped() -> None:
    events = [Event("backup", 1.0, {"id": "x"}), Event("backup", 2.0, backup(1, 1.5).to_event_data())]
    assert [b.id for b in backups_from_events(events)] == ["b1"]


def test_restore_from_events_pairs_the_last_start_with_its_end() -> None:
    events = [Event("restore-start", 10.0, {"backup_id": "b2", "component": "postgres", "method": "dump"}),
              Event("restore-end", 16.5, {"backup_id": "b2", "ok": True, "rows": 5, "max_seq": 4, "checksum": "m",
                                          "steps_s": {"load_s": 1.0}})]
    r = restore_from_events(events)
    assert r is not None and r.ok and r.ended_s == 16.5 and r.rows == 5 and r.steps_s == {"load_s": 1.0}
    unfinished = restore_from_events(events[:1])
    assert unfinished is not None and unfinished.ended_s is None and not unfinished.ok
    assert restore_from_events([]) is None


def test_latest_ok_skips_failed_backups() -> None:
    found = [backup(1, 0.0), backup(2, 5.0), backup(3, 10.0, ok=False)]
    assert latest_ok(found) == found[1]
    assert latest_ok(found, method="snapshot") is None


def test_digest_rows() -> None:
    d = parse_digest_row((3, 2, "d41d8cd98f00b204e9800998ecf8427e"))
    assert (d.rows, d.max_seq) == (3, 2)
    assert parse_digest_row((0, -1, "d41d8cd98f00b204e9800998ecf8427e")).max_seq is None
    with pytest.raises(ValueError):
        parse_digest_row((1, 0, None))
    with pytest.raises(ValueError):
        parse_digest_row((1, 0))


@given(st.floats(0, 100), st.floats(0, 1000), st.floats(0.1, 60))
def test_next_slot_is_after_now_on_the_grid(start: float, later: float, interval: float) -> None:
    now = start + later
    slot = next_slot(start, now, interval)
    assert now < slot <= now + interval + 1e-6
    k = (slot - start) / interval
    assert abs(k - round(k)) < 1e-6


def test_definitions_digest_ignores_what_a_new_cluster_changes() -> None:
    old = {"rabbit_version": "3.10.8", "users": [{"name": "app", "tags": ["administrator"], "password_hash": "x"}],
           "queues": [{"name": "q", "vhost": "/", "durable": True, "auto_delete": False,
                       "arguments": {"x-queue-type": "quorum"}}], "global_parameters": [{"name": "cluster_name"}]}
    new = {"rabbit_version": "3.12", "users": [{"name": "app", "tags": "administrator", "password_hash": "y"}],
           "queues": [*old["queues"], {"name": "extra", "vhost": "/", "durable": True, "auto_delete": False,
                                       "arguments": {}}]}
    lines = canonical(old)
    assert restored_digest(lines, new) == digest_of(lines)
    assert restored_digest(lines, {"users": new["users"]}).rows == 1  # the queue went missing


# ---- rpo ------------------------------------------------------------------------------------------


@st.composite
def restore_histories(draw: st.DrawFn) -> tuple[list[Op], set[int], list[Backup], list[Event], dict[str, int]]:
    """Writes every 20 ms; a backup holds all acked before it started; the failure loses the rest
    until the restore, after which writes are kept; plus planted losses of each kind."""
    n_before = draw(st.integers(1, 200))
    gap = draw(st.integers(0, 300))  # writes acked between the backup start and the failure
    outage = draw(st.integers(1, 100))
    n_after = draw(st.integers(0, 100))
    ops: list[Op] = []
    t = 0.0
    seq = 0
    final: set[int] = set()

    def write(outcome: Outcome, keep: bool) -> None:
        nonlocal t, seq
        ops.append(Op("postgres.write", 0, "write", seq, t, t + STEP / 2, outcome))
        if keep:
            final.add(seq)
        seq += 1
        t += STEP

    for _ in range(n_before):
        write(Outcome.OK, True)
    backup_start = t
    b = Backup("b1", "postgres", "dump", backup_start, backup_start + 0.3, True, rows=n_before, max_seq=n_before - 1,
               checksum="x")
    for _ in range(gap):
        write(Outcome.OK, False)
    failure = t
    for _ in range(outage):
        write(Outcome.FAIL, False)
    restore_end = t
    for _ in range(n_after):
        write(Outcome.OK, True)
    planted = {"before": draw(st.integers(0, min(3, n_before))), "after": draw(st.integers(0, min(3, n_after)))}
    final -= set(range(planted["before"]))
    final -= set(range(seq - planted["after"], seq))
    events = [Event("inject", failure), Event("restore-start", failure + 0.01, {"backup_id": "b1"}),
              Event("restore-end", restore_end, {"backup_id": "b1", "ok": True, "rows": n_before, "checksum": "x"})]
    return ops, final, [b], events, {**planted, "gap": gap}


@given(restore_histories())
def test_rpo_finds_exactly_the_planted_losses(case: tuple[list[Op], set[int], list[Backup], list[Event],
                                                          dict[str, int]]) -> None:
    ops, final, backups, events, planted = case
    v = check_rpo(ops, "postgres.write", final, backups, restore_from_events(events), failure_at=events[0].at,
                  rate=50, interval_s=10.0)  # the failure lands within 6 s of the only backup: inside its slot
    m = v.measured
    assert (m["lost_before_backup"], m["lost_after_backup"], m["lost_after_restore"]) == (
        planted["before"], planted["gap"], planted["after"])
    expected = Status.PASS if not planted["before"] and not planted["after"] else Status.FAIL
    assert v.status is expected


def test_rpo_bound_is_rate_times_window_unless_given() -> None:
    assert lost_bound(50, 7, None) == 350
    assert lost_bound(33, 0.5, None) == math.ceil(16.5)
    assert lost_bound(50, 7, 3) == 3


def test_rpo_window_longer_than_the_schedule_promises_fails() -> None:
    """One backup at 1.0 s (0.5 s long), none after it: a failure 8 s later is past the next slot
    (5 s) plus the longest backup (0.5 s)."""
    ops = [Op("postgres.write", 0, "write", i, i * 0.1, i * 0.1 + 0.05, Outcome.OK) for i in range(100)]
    b = backup(1, 1.0, rows=10)
    events = [Event("restore-start", 9.0, {"backup_id": "b1"}), Event("restore-end", 12.0, {"backup_id": "b1",
                                                                                               "ok": True})]
    v = check_rpo(ops, "postgres.write", set(range(10)), [b], restore_from_events(events), failure_at=9.0, rate=10,
                  interval_s=5)
    assert v.status is Status.FAIL and v.measured["rpo_s"] == pytest.approx(8.95, abs=0.01)  # the span lost
    assert v.bound["max_rpo_s"] == pytest.approx(5.5) and v.measured["lost_span_s"] == pytest.approx(8.95, abs=0.01)


def test_rpo_is_not_measured_without_a_restore_or_a_read() -> None:
    ops = [Op("postgres.write", 0, "write", 0, 0.0, 0.01, Outcome.OK)]
    assert check_rpo(ops, "postgres.write", {0}, [backup(1, 0)], None, failure_at=1.0, rate=50,
                     interval_s=5).status is Status.NOT_MEASURED
    events = [Event("restore-start", 2.0, {"backup_id": "b1"})]
    assert check_rpo(ops, "postgres.write", None, [backup(1, 0)], restore_from_events(events), failure_at=1.0,
                     rate=50, interval_s=5).status is Status.NOT_MEASURED
    assert check_rpo(ops, "postgres.write", {0}, [backup(1, 0)], restore_from_events(events), failure_at=1.0,
                     rate=50, interval_s=5).status is Status.NOT_MEASURED  # never finished


# ---- backup integrity -----------------------------------------------------------------------------


@given(st.integers(0, 10**6), st.integers(0, 10**6), st.text(min_size=1, max_size=8), st.text(min_size=1, max_size=8))
def test_integrity_passes_iff_rows_and_checksum_match(rows: int, restored_rows: int, md5: str, restored: str) -> None:
    events = [Event("restore-start", 10.0, {"backup_id": "b1"}),
              Event("restore-end", 20.0, {"backup_id": "b1", "ok": True, "rows": restored_rows,
                                          "checksum": restored})]
    v = check_backup_integrity("postgres", [backup(1, 0.0, rows=rows, checksum=md5)], restore_from_events(events),
                               failure_at=8.0)
    assert v.passed == (rows == restored_rows and md5 == restored)
    assert v.measured["rto_s"] == 12.0


def test_integrity_rto_bound_and_failed_restore() -> None:
    ok_end = [Event("restore-start", 10.0, {"backup_id": "b1"}),
              Event("restore-end", 40.0, {"backup_id": "b1", "ok": True, "rows": 10, "checksum": "abc"})]
    slow = check_backup_integrity("postgres", [backup(1, 0.0)], restore_from_events(ok_end), failure_at=5.0,
                                  max_rto_s=30)
    assert slow.status is Status.FAIL and slow.measured["rto_s"] == 35.0
    failed = [ok_end[0], Event("restore-end", 12.0, {"backup_id": "b1", "ok": False, "error": "boom"})]
    assert check_backup_integrity("postgres", [backup(1, 0.0)], restore_from_events(failed),
                                  failure_at=5.0).status is Status.FAIL
    assert check_backup_integrity("postgres", [backup(1, 0.0)], None, failure_at=5.0).status is Status.NOT_MEASURED
    unknown = [Event("restore-start", 10.0, {"backup_id": "zz"}), ok_end[1]]
    assert check_backup_integrity("postgres", [backup(1, 0.0)], restore_from_events(unknown),
                                  failure_at=5.0).status is Status.NOT_MEASURED


# ---- scenario files -------------------------------------------------------------------------------

BASE = """\
id: x
title: x
policy: x
workload:
  postgres.write: {rate: 50}
%s
steps:
  - fault: total-failure
    target: postgres.*
  - fault: restore-backup
    target: %s
    method: %s
expectations:
  - checker: rpo
    signal: postgres.write
    why: x
  - checker: backup-integrity
    why: x
"""


def _problems(tmp_path: Path, backup_section: str, target: str = "postgres.*", method: str = "dump") -> list[str]:
    path = tmp_path / "s.yaml"
    path.write_text(BASE % (backup_section, target, method))
    return [f"{p.field}: {p.message}" for p in check_file(path)[1]]


def test_backup_section_validates(tmp_path: Path) -> None:
    assert _problems(tmp_path, "backup: {component: postgres, method: dump, interval: 5s}") == []


def test_restore_and_backup_checkers_need_a_backup_section(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "")
    assert any(p.startswith("steps[1]: restore-backup needs") for p in problems)
    assert any(p.startswith("expectations[0]: the rpo checker needs") for p in problems)
    assert any(p.startswith("expectations[1]: the backup-integrity checker needs") for p in problems)


def test_restore_must_fit_the_backups(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "backup: {component: postgres, method: dump}", target="rabbitmq.*",
                         method="snapshot")
    assert any("steps[1].target" in p for p in problems)
    assert any("steps[1].method" in p for p in problems)
    assert any("backup.method" in p for p in _problems(tmp_path, "backup: {component: rabbitmq, method: snapshot}"))


def test_a_mongo_restore_waits_for_mongo_init_to_finish_and_stops_when_it_failed() -> None:
    from drills.components._mongo_backup import init_outcome
    from drills.stack.services import ServiceInfo

    def init(state: str, status: str) -> dict[str, ServiceInfo]:
        return {"mongo-init": ServiceInfo("mongo-init", "c1", "p-mongo-init-1", state, status, None, None)}

    assert init_outcome({}) is None  # not created yet
    assert init_outcome(init("running", "Up 2 seconds")) is None
    assert init_outcome(init("exited", "Exited (0) 1 second ago")) == ""
    assert init_outcome(init("exited", "Exited (1) 1 second ago")) == "Exited (1) 1 second ago"
