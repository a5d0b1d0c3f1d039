"""DR readiness by component follows every run reported, not only each scenario's latest: a
scenario that passed and failed across repeated runs is FLAKY, and its component NOT READY."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from drills.report.readiness import components
from drills.report.render import REPORT_NAME
from drills.report.runs import Run
from tests.report_factory import make_not_run, make_run

STATUSES = ("passed", "failed", "error", "aborted", "not-run")


def report_md(reports: Path, out: Path) -> str:
    done = subprocess.run([sys.executable, "-m", "drills", "report", str(reports), "--format", "md", "--out",
                           str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return (out / f"{REPORT_NAME}.md").read_text()


def test_a_scenario_that_passed_and_failed_is_flaky_and_its_component_not_ready(tmp_path):
    reports = tmp_path / "reports"
    make_run(reports)  # passed
    make_run(reports, outage=(5.3, 27.0), lost=3, after=15.0)  # failed: RTO and RPO broken
    make_run(reports)  # passed again: the latest run alone would say READY
    make_not_run(reports)  # rabbitmq: nothing shown
    md = report_md(reports, tmp_path / "out")
    assert "| postgres | **NOT READY** | 1 | FLAKY postgres-leader-kill: 2/3 passed, latest #3 PASSED |" in md
    assert "| rabbitmq | **UNVERIFIED** | 1 | NOT RUN rabbitmq-node-partition: 0/1 passed, latest #4 NOT-RUN |" in md


def test_every_run_passed_is_ready(tmp_path):
    reports = tmp_path / "reports"
    make_run(reports)
    make_run(reports, outage=(5.3, 12.0))
    md = report_md(reports, tmp_path / "out")
    assert "| postgres | **READY** | 1 | MET postgres-leader-kill: 2/2 passed, latest #2 PASSED |" in md


def _run(i: int, scenario: str, status: str) -> Run:
    verdicts = [] if status in ("not-run", "error", "aborted") else [
        {"checker": "lost-writes", "subject": "postgres.write", "status": "pass" if status == "passed" else "fail"}]
    journal = {"run_id": f"r{i}", "status": status, "started_at": f"2026-01-01T00:00:{i:02d}",
               "scenario": {"id": scenario, "component": "postgres"}, "verdicts": verdicts}
    return Run(Path(f"/nonexistent/r{i}"), journal, None)


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from(STATUSES)), min_size=1, max_size=12))
def test_ready_only_when_every_run_of_every_scenario_passed(history):
    runs = [_run(i, sid, status) for i, (sid, status) in enumerate(history)]
    [summary] = components(runs)
    statuses: dict[str, set[str]] = {}
    for sid, status in history:
        statuses.setdefault(sid, set()).add(status)
    assert (summary.readiness == "READY") == all(s == {"passed"} for s in statuses.values())
    if any("passed" in s and s & {"failed", "error"} for s in statuses.values()):
        assert summary.readiness == "NOT READY"
        assert "FLAKY" in {v.verdict for v in summary.verdicts}
    if any(not s & {"passed", "not-run"} for s in statuses.values()):  # failed, errored or aborted only
        assert summary.readiness == "NOT READY"
    assert [v.latest.run_id for v in summary.verdicts] == [r.run_id for r in summary.latest]


# ---- only the drilled stack's components ---------------------------------------------------------

POSTGRES_ONLY = {"name": "postgres-only", "file": "/x/stacks/examples/postgres-only/stack.yaml", "overrides": [],
                 "components": ["postgres", "etcd"], "roles": {"etcd": ["etcd1"], "postgres": ["db-a", "db-b"]}}


def test_a_stack_s_report_lists_its_components_only_and_names_those_it_lacks(tmp_path):
    """A PostgreSQL-only stack: its MongoDB and RabbitMQ drills were NOT RUN for roles it lacks, so
    those components are no rows (never UNVERIFIED), one line names them, and the environment
    says which stack was drilled."""
    reports = tmp_path / "reports"
    make_run(reports)
    why = "stack postgres-only (drills-x) has no {} role (it declares etcd, postgres)"
    make_not_run(reports, "mongo-primary-kill", why.format("mongo"), stack={**POSTGRES_ONLY, "lacks": ["mongo"]})
    make_not_run(reports, "rabbitmq-node-partition", why.format("rabbitmq"),
                 stack={**POSTGRES_ONLY, "lacks": ["rabbitmq"]})
    md = report_md(reports, tmp_path / "out")
    table = md.split("## DR readiness by component", 1)[1].split("\n## ", 1)[0]
    assert "| postgres | **READY** |" in table
    assert "| mongo |" not in table and "| rabbitmq |" not in table and "UNVERIFIED" not in md
    assert "\nnot in this stack (postgres-only): mongo, rabbitmq\n" in table
    assert "- stack postgres-only (`/x/stacks/examples/postgres-only/stack.yaml`): components postgres, etcd; " \
           "roles etcd: etcd1; postgres: db-a, db-b; 2 run(s)" in md


def test_a_component_the_stack_has_stays_unverified_while_its_image_is_absent(tmp_path):
    """The reference stack without the MongoDB image: the stack has the role, lacks nothing, and the
    component is UNVERIFIED until the image is here, as before."""
    reports = tmp_path / "reports"
    make_run(reports)
    reference = {**POSTGRES_ONLY, "name": "api-fortress-ha", "components": ["postgres", "etcd", "mongo"],
                 "lacks": []}
    make_not_run(reports, "mongo-primary-kill", "image mongo:7 absent on this machine", stack=reference)
    md = report_md(reports, tmp_path / "out")
    assert "| mongo | **UNVERIFIED** | 1 | NOT RUN mongo-primary-kill: 0/1 passed, latest #2 NOT-RUN |" in md
    assert "not in this stack" not in md


def _stack_run(i: int, scenario: str, component: str, status: str, lacks: tuple[str, ...]) -> Run:
    run = _run(i, scenario, status)
    run.journal["scenario"]["component"] = component
    run.journal["environment"] = {"stack": {"name": "s", "lacks": list(lacks)}}
    return run


SCENARIO_OF = {"a": "postgres", "b": "postgres", "c": "mongo", "d": "app"}


@given(st.lists(st.tuples(st.sampled_from(sorted(SCENARIO_OF)), st.sampled_from(STATUSES), st.booleans()),
                min_size=1, max_size=12))
def test_a_component_is_a_row_or_named_as_not_in_the_stack_never_both(history):
    from drills.report.readiness import not_in_stack

    runs = [_stack_run(i, sid, SCENARIO_OF[sid], status, ("mongo",) if lacked and status == "not-run" else ())
            for i, (sid, status, lacked) in enumerate(history)]
    rows = {c.component: c for c in components(runs)}
    outside = not_in_stack(runs)
    assert not set(rows) & set(outside.components)
    assert set(rows) | set(outside.components) == {SCENARIO_OF[sid] for sid, _, _ in history}
    for comp in outside.components:  # every run of it was NOT RUN for a role the stack lacks
        assert all(r.outside_stack for r in runs if r.component == comp)
    for comp, row in rows.items():  # a row counts no run its stack could not drive
        assert all(not r.outside_stack for r in row.latest)
        assert row.scenarios == len({r.scenario_id for r in runs if r.component == comp and not r.outside_stack})
    assert bool(outside.text()) == bool(outside.components or outside.scenarios)
