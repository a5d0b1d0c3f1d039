"""The `drill run` summary line: documented outcome, observed, verdict, RTO, RPO from the verdicts."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from drills.checkers.verdict import Status, Verdict
from drills.records.result import RunResult
from drills.report.summary import documented_outcome, rpo_of, rto_of, summary_row

POLICY = ("In case of a database being unreachable for connectivity issues, the system will continue "
          "working using a replica. No service degradation is expected.")


def availability(rto: float | None, outage: float, passed: bool = True) -> Verdict:
    return Verdict("availability", "postgres.write", "outage <= 20 s", f"outage {outage} s",
                   Status.PASS if passed else Status.FAIL, {"rto_s": rto, "longest_outage_s": outage})


def test_documented_outcome_is_the_policys_last_sentence():
    assert documented_outcome(POLICY) == "No service degradation is expected."
    assert documented_outcome("x " * 100, limit=20).endswith("…")


def test_row_of_a_passed_drill():
    lost = Verdict("lost-writes", "postgres.write", "lost <= 0", "0 lost", Status.PASS, {"lost": 0})
    row = summary_row(RunResult("r", "pg-kill", "passed", [availability(10.7, 10.6), lost], Path("."), policy=POLICY))
    assert (row.verdict, row.rto, row.rpo) == ("PASSED", "10.7 s", "0 writes")
    assert row.observed == "all expectations met; longest outage 10.6 s (postgres.write)"


def test_row_of_a_failed_and_of_a_not_run_drill():
    failed = summary_row(RunResult("r", "x", "failed", [availability(None, 31.0, passed=False)], None, policy=POLICY))
    assert failed.verdict == "FAILED" and "outage 31.0 s" in failed.observed and failed.rto == "not measured"
    skipped = summary_row(RunResult("r", "m", "not-run", [], None, "image mongo:7 absent", policy=POLICY))
    assert (skipped.verdict, skipped.observed, skipped.rto, skipped.rpo) == (
        "NOT-RUN", "image mongo:7 absent", "-", "-")


@given(st.lists(st.floats(min_value=0, max_value=1e4), min_size=1, max_size=5))
def test_rto_is_the_longest(rtos):
    assert rto_of([availability(r, r) for r in rtos]) == f"{max(rtos):.1f} s"


def test_rpo_of_a_restore_and_of_a_queue():
    rpo = Verdict("rpo", "postgres.write", "", "", Status.PASS, {"lost": 168, "rpo_s": 3.393})
    queue = Verdict("queue", "rabbitmq.publish", "", "", Status.PASS, {"lost": 0})
    assert rpo_of([rpo, queue]) == "168 writes (3.4 s), 0 messages"


def test_rpo_and_rto_of_a_restore_that_measured_nothing_say_so():
    rpo = Verdict("rpo", "postgres.write", "", "not measured: no restore happened", Status.NOT_MEASURED,
                  {"backups_ok": 2, "backups_failed": 0})
    restore = Verdict("backup-integrity", "postgres", "", "not measured: no restore happened", Status.NOT_MEASURED,
                      {"backups_ok": 2})
    assert rpo_of([rpo]) == "not measured"
    assert rto_of([restore]) == "not measured"
    window_unknown = Verdict("rpo", "postgres.write", "", "", Status.NOT_MEASURED, {"lost": 12, "rpo_s": None})
    assert rpo_of([window_unknown]) == "12 writes (window not measured)"
