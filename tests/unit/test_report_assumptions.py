"""A broken assumption is shown beside the expectation that relies on it, in the journal's
verdicts, `drill run`'s summary and the report; a met scenario whose assumption is broken leaves its
component NOT READY, one whose assumption could not be checked UNVERIFIED."""

from __future__ import annotations

import json
from pathlib import Path

from drills.checkers.verdict import Status, Verdict
from drills.core.effective_config import READ, EffectiveConfig, Part
from drills.records.result import RunResult
from drills.report.readiness import components
from drills.report.run_log import RunLog, write_summary
from drills.report.runs import load_runs
from drills.report.summary import summary_row
from drills.spec.assumptions import BROKEN, UNCHECKED, AssumptionCheck
from tests.report_factory import make_run
from tests.unit.test_report_readiness import report_md
from tests.unit.test_stack_effective import reference_config

COMMIT = "postgres.synchronous_commit in [on, remote_write, remote_apply]"
LOCAL = f"this bound assumes {COMMIT}; the stack runs local"


def with_postgres(**changes: object) -> dict[str, object]:
    """The reference configuration with its PostgreSQL part changed, as a journal records it."""
    config = reference_config()
    pg = config.part("postgres")
    part = Part(READ, settings={**pg.settings, **changes.get("settings", {})},  # type: ignore[dict-item]
                state=pg.state, not_read=changes.get("not_read", {}))  # type: ignore[arg-type]
    return {"effective": EffectiveConfig({**config.parts, "postgres": part}, stack=config.stack).to_json()}


LOCAL_COMMIT = with_postgres(settings={"pg_settings": {"server_version": "15.18", "synchronous_commit": "local"}})
UNREAD = with_postgres(settings={"pg_settings": {}}, not_read={"pg_settings": "no single leader to ask (none)"})


def test_the_journal_s_verdicts_carry_each_assumption_checked(tmp_path: Path) -> None:
    run = make_run(tmp_path, effective=LOCAL_COMMIT)
    verdicts = json.loads((run / "journal.json").read_text())["verdicts"]
    lost = next(v for v in verdicts if v["checker"] == "lost-writes")
    assert lost["status"] == "pass"  # the drill lost nothing: the verdict is what was measured
    assert lost["assumptions"] == [
        {"assumes": "postgres.patroni.synchronous_mode == true", "status": "held", "actual": True},
        {"assumes": COMMIT, "status": "broken", "actual": "local"}]
    bystander = next(v for v in verdicts if v["subject"] == "rabbitmq.publish")
    assert "assumptions" not in bystander  # it declares none


def test_the_report_shows_the_broken_assumption_beside_the_expectation_and_not_ready(tmp_path: Path) -> None:
    make_run(tmp_path / "reports", effective=LOCAL_COMMIT)
    md = report_md(tmp_path / "reports", tmp_path / "out")
    row = next(line for line in md.splitlines() if line.startswith("| lost-writes | postgres.write | max_lost: 0"))
    assert f"**BROKEN:** {LOCAL}" in row
    assert "**held:** assumes postgres.patroni.synchronous_mode == true (the stack runs true)" in row
    verdict = next(line for line in md.splitlines() if line.startswith("| **PASS** | lost-writes |"))
    assert f"**assumption BROKEN:** {LOCAL}" in verdict
    assert ("| postgres | **NOT READY**: assumption broken | 1 | MET postgres-leader-kill: 1/1 passed, latest #1 "
            f"PASSED (**assumption not held:** lost-writes postgres.write: {LOCAL}) |") in md
    assert f"ASSUMPTION BROKEN lost-writes postgres.write: {LOCAL}" in md
    # Only the expectations that rely on it: the availability bound assumes timings, which hold.
    availability = next(line for line in md.splitlines() if line.startswith("| availability | postgres.write |"))
    assert "BROKEN" not in availability and "**held:** assumes postgres.patroni.ttl <= 10" in availability


def test_an_assumption_not_read_is_unchecked_and_leaves_the_component_unverified(tmp_path: Path) -> None:
    make_run(tmp_path / "reports", effective=UNREAD)
    md = report_md(tmp_path / "reports", tmp_path / "out")
    why = f"this bound assumes {COMMIT}; unchecked: pg_settings not read from the stack: no single leader to ask"
    assert f"**UNCHECKED:** {why}" in md
    assert "| postgres | **UNVERIFIED**: assumption unchecked | 1 | MET postgres-leader-kill" in md


def test_readiness_over_runs_broken_in_one_of_them(tmp_path: Path) -> None:
    make_run(tmp_path)
    make_run(tmp_path, effective=LOCAL_COMMIT)
    make_run(tmp_path)
    (postgres,) = components(load_runs([tmp_path]))
    assert (postgres.readiness, postgres.note) == ("NOT READY", "assumption broken")
    (scenario,) = postgres.verdicts
    assert (scenario.verdict, scenario.assumption) == ("MET", BROKEN)
    assert scenario.not_held == (f"lost-writes postgres.write: {LOCAL}",)


def test_on_the_reference_configuration_a_met_scenario_is_ready(tmp_path: Path) -> None:
    make_run(tmp_path)
    (postgres,) = components(load_runs([tmp_path]))
    assert (postgres.readiness, postgres.note, postgres.verdicts[0].assumption) == ("READY", "", "held")


def test_a_failed_scenario_stays_not_ready_whatever_its_assumptions(tmp_path: Path) -> None:
    make_run(tmp_path, effective=UNREAD, lost=3)
    (postgres,) = components(load_runs([tmp_path]))
    assert postgres.readiness == "NOT READY" and postgres.verdicts[0].assumption == UNCHECKED
    assert postgres.note == ""  # the failure decided it, not the assumption


def test_the_run_summary_says_it_beside_what_was_observed(tmp_path: Path) -> None:
    broken = AssumptionCheck(COMMIT, BROKEN, "local")
    held = AssumptionCheck("postgres.patroni.synchronous_mode == true", "held", True)
    lost = Verdict("lost-writes", "postgres.write", "lost <= 0", "0 lost", Status.PASS, {"lost": 0},
                   assumptions=(held, broken))
    result = RunResult("r1", "postgres-leader-kill", "passed", [lost], None, policy="No degradation.")
    row = summary_row(result)
    assert row.observed == f"all expectations met; assumption broken: lost-writes postgres.write: {LOCAL}"
    assert row.assumptions == (f"lost-writes postgres.write: {LOCAL}",)
    path = tmp_path / "summary.json"
    write_summary(RunLog(results=[(1, result)]), path, exit_code=0)
    (run,) = json.loads(path.read_text())["runs"]
    assert run["assumptions"] == [{"expectation": "lost-writes postgres.write", "assumes": COMMIT,
                                   "status": "broken", "actual": "local"}]


def test_one_reason_is_said_once_for_every_bound_it_breaks() -> None:
    other = "repmgr, not patroni"
    ttl, wait = "postgres.patroni.ttl <= 10", "postgres.patroni.loop_wait <= 2"
    lost = Verdict("lost-writes", "postgres.write", "lost <= 0", "0 lost", Status.PASS, {"lost": 0},
                   assumptions=(AssumptionCheck(ttl, BROKEN, other), AssumptionCheck(COMMIT, BROKEN, "local")))
    failover = Verdict("failover", "postgres", "within 20 s", "ok", Status.PASS, {},
                       assumptions=(AssumptionCheck(ttl, BROKEN, other), AssumptionCheck(wait, BROKEN, other)))
    row = summary_row(RunResult("r1", "postgres-leader-kill", "passed", [lost, failover], None, policy="x"))
    assert row.observed == ("all expectations met"
                            f"; assumption broken: lost-writes postgres.write, failover postgres: these bounds assume "
                            f"{ttl} and {wait}; the stack runs {other}"
                            f"; assumption broken: lost-writes postgres.write: {LOCAL}")
    assert len(row.assumptions) == 4  # the journal and summary JSON keep each one
