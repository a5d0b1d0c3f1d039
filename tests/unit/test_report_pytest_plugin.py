"""The pytest plugin: scenario files as test items, with a fake executor (no containers)."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from drills.checkers.verdict import Status, Verdict
from drills.cli import pytest_plugin
from drills.records.result import RunResult

pytest_plugins = ("pytester",)

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "postgres-leader-kill.yaml"

RTO_FAIL = Verdict("availability", "postgres.write", "max_outage_s <= 20; max_rto_s <= 20",
                   "1 outage(s), longest 24.1 s; RTO 25.4 s", Status.FAIL,
                   {"rto_s": 25.4, "longest_outage_s": 24.1, "lost_sample": [1, 2]},
                   {"max_outage_s": 20.0, "max_rto_s": 20.0}, "ttl 10 s + loop_wait 2 s + ...")
LOST_OK = Verdict("lost-writes", "postgres.write", "acknowledged writes lost <= 0", "0 of 900 lost", Status.PASS,
                  {"lost": 0, "acknowledged": 900}, {"max_lost": 0})
UNMEASURED = Verdict("resync", "postgres", "resynced within 60 s", "not measured: no heal happened",
                     Status.NOT_MEASURED, {}, {"max_resync_s": 60.0})


class FakeExecutor:
    def __init__(self, status: str, verdicts: list[Verdict], reason: str = "") -> None:
        self.status, self.verdicts, self.reason = status, verdicts, reason
        self.calls: list[tuple[list[Path], str | None, Path]] = []

    def __call__(self, scenarios, *, project, reports_dir):
        self.calls.append(([p for p, _ in scenarios], project, reports_dir))
        (_, sc), = scenarios
        return [RunResult("20260101T000000-x-abc123", sc.id, self.status, self.verdicts, reports_dir / "run",
                          self.reason, 42.0, 4.2 if self.status != "not-run" else None)]


@pytest.fixture
def scenario_dir(pytester: pytest.Pytester) -> Path:
    shutil.copy(SCENARIO, pytester.path / SCENARIO.name)
    (pytester.path / "compose.yml").write_text("services:\n  web:\n    image: nginx\n")
    (pytester.path / "other.yaml").write_text("id: not-a-scenario\nname: x\n")  # no steps: not collected
    (pytester.path / "nested.yaml").write_text("meta:\n  id: x\n  steps: []\n")  # not top level
    return pytester.path


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # --assert=plain: the inner run would otherwise rewrite (and recompile) every module of the
    # distributions that provide pytest plugins, drills and hypothesis included, at each run.
    return pytester.runpytest("--assert=plain", "-p", "no:cacheprovider", "-p", "no:hypothesispytest", *args)


def use(monkeypatch, executor: FakeExecutor) -> FakeExecutor:
    monkeypatch.setattr(pytest_plugin, "EXECUTE", executor)
    return executor


def test_is_scenario_file_only_for_scenarios(tmp_path):
    assert all(pytest_plugin.is_scenario_file(p) for p in (ROOT / "scenarios").glob("*.yaml"))
    assert not pytest_plugin.is_scenario_file(ROOT / "tests" / "integration" / "mini" / "compose.yml")
    assert not pytest_plugin.is_scenario_file(ROOT / "docker-compose.ha.yml")
    (tmp_path / "a.yaml").write_text("id: x\nfaults: []\n")
    (tmp_path / "b.json").write_text("id: x\nsteps: []\n")
    assert pytest_plugin.is_scenario_file(tmp_path / "a.yaml")
    assert not pytest_plugin.is_scenario_file(tmp_path / "b.json")
    assert not pytest_plugin.is_scenario_file(tmp_path / "missing.yaml")


def test_collects_one_item_per_scenario_file_and_nothing_else(scenario_dir, pytester, monkeypatch):
    executor = use(monkeypatch, FakeExecutor("passed", [LOST_OK]))
    result = run(pytester, "--collect-only", "-q")
    result.stdout.fnmatch_lines(["postgres-leader-kill.yaml::postgres-leader-kill", "1 test collected*"])
    assert not executor.calls


def test_a_broken_expectation_fails_with_expected_measured_and_tolerance(scenario_dir, pytester, monkeypatch):
    executor = use(monkeypatch, FakeExecutor("failed", [LOST_OK, RTO_FAIL, UNMEASURED]))
    result = run(pytester, "--drill-reports", str(scenario_dir / "out"), "--drill-project", "drills-abc")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "drill postgres-leader-kill FAILED (run 20260101T000000-x-abc123, *)",
        "  FAIL availability postgres.write",
        "    expected:  max_outage_s <= 20; max_rto_s <= 20",
        "    measured:  rto_s=25.4, longest_outage_s=24.1",
        "    tolerance: max_outage_s=20, max_rto_s=20",
        "    observed:  1 outage(s), longest 24.1 s; RTO 25.4 s",
        "    why:       ttl 10 s + loop_wait 2 s + ...",
        "  NOT MEASURED resync postgres",
        "    tolerance: max_resync_s=60",
    ])
    assert "lost-writes" not in result.stdout.str().split("FAILURES")[1].split("short test summary")[0]
    assert "Traceback" not in result.stdout.str()
    assert executor.calls == [([scenario_dir / SCENARIO.name], "drills-abc", scenario_dir / "out")]


def test_not_run_is_skipped_with_its_reason(scenario_dir, pytester, monkeypatch):
    use(monkeypatch, FakeExecutor("not-run", [], "image mongo:7 absent on this machine"))
    result = run(pytester, "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED*NOT RUN: image mongo:7 absent on this machine"])


def test_a_harness_error_fails_with_its_reason(scenario_dir, pytester, monkeypatch):
    use(monkeypatch, FakeExecutor("error", [], "StackError: pg1 did not start"))
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["drill postgres-leader-kill ERROR*", "  reason: StackError: pg1 did not start"])


def test_junit_properties_carry_the_measurements(scenario_dir, pytester, monkeypatch):
    use(monkeypatch, FakeExecutor("failed", [RTO_FAIL, LOST_OK]))
    xml = scenario_dir / "junit.xml"
    run(pytester, f"--junitxml={xml}")
    props = {p.get("name"): p.get("value") for p in ET.parse(xml).getroot().iter("property")}
    assert props["drill.status"] == "failed"
    assert props["drill.run_id"] == "20260101T000000-x-abc123"
    assert props["rto_s.postgres.write"] == "25.4"
    assert props["lost_writes.postgres.write"] == "0"
    assert props["verdict.availability.postgres.write"] == "fail"
    assert props["verdict.lost-writes.postgres.write"] == "pass"
    assert props["drill.recovery_s"] == "4.2"


def test_an_invalid_scenario_fails_with_located_problems_and_runs_nothing(pytester, monkeypatch):
    executor = use(monkeypatch, FakeExecutor("passed", []))
    text = SCENARIO.read_text().replace("hold: 15s", "hold: soon")
    (pytester.path / "bad.yaml").write_text(text)
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*bad.yaml:*:*: steps[[]0[]].hold: invalid duration 'soon'*"])
    assert not executor.calls


def test_the_default_executor_is_the_session_drill_run_uses(monkeypatch, tmp_path):
    from drills.run import session

    seen = []
    monkeypatch.setattr(pytest_plugin, "EXECUTE", None)
    monkeypatch.setattr(session, "run_scenarios", lambda scenarios, *, project, reports_dir:
                        seen.append((scenarios, project, reports_dir)) or [])
    assert pytest_plugin._executor()([("s", "sc")], project=None, reports_dir=tmp_path) == []
    assert seen == [([("s", "sc")], None, tmp_path)]


def test_a_stack_that_does_not_come_up_is_an_error_in_junit_too(scenario_dir, pytester, monkeypatch):
    from drills.core.errors import StackError

    def boom(*_args: object, **_kwargs: object) -> list[RunResult]:
        raise StackError("containers healthy: not ready after 120.0 s (last seen: waiting for mailer unhealthy)")

    monkeypatch.setattr(pytest_plugin, "EXECUTE", boom)
    xml = scenario_dir / "junit.xml"
    result = run(pytester, f"--junitxml={xml}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*not ready after 120.0 s*mailer unhealthy*"])
    props = {p.get("name"): p.get("value") for p in ET.parse(xml).getroot().iter("property")}
    assert props["drill.status"] == "error" and "mailer unhealthy" in props["drill.error"]


def test_junit_properties_of_a_restore_carry_its_rpo_and_rto():
    """Every checker's declared metrics reach JUnit: a restore's RPO window, the writes it lost,
    and its restore RTO, beside the availability RTO."""
    rpo = Verdict("rpo", "postgres.write", "...", "...", Status.PASS, {"rpo_s": 4.2, "lost": 180},
                  {"max_rpo_s": 6.0, "max_lost": 300})
    restore = Verdict("backup-integrity", "postgres", "...", "...", Status.PASS, {"rto_s": 31.5}, {"max_rto_s": 60})
    unmeasured = Verdict("rpo", "mongo.write", "...", "not measured: no restore happened", Status.NOT_MEASURED,
                         {"backups_ok": 2}, {})
    result = RunResult("r", "postgres-global-failure-restore-dump", "passed", [RTO_FAIL, rpo, restore, unmeasured])
    props = pytest_plugin.properties(result)
    assert ("rpo_s.postgres.write", 4.2) in props and ("rpo_lost_writes.postgres.write", 180) in props
    assert ("rto_s.postgres", 31.5) in props and ("rto_s.postgres.write", 25.4) in props
    assert not [name for name, _ in props if name.endswith(".mongo.write") and not name.startswith("verdict.")]
