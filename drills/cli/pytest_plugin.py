"""pytest plugin: `pytest scenarios/` runs every scenario file as a test, the way `drill run` does.

Registered through the `pytest11` entry point, so it is loaded by every pytest run in an
environment where drills is installed; it stays out of the way of everything else:
- it only looks at `.yaml`/`.yml` files, and only collects those whose top level has `id:` and
  `steps:` (or `faults:`) — a scenario file (drills.files.scenario); a compose file or any other YAML is
  left alone. The check reads the first 64 KiB of the file with a regular expression: no YAML
  parser, no pydantic, no docker is imported while collecting;
- it never imports the harness until a scenario item runs.

Each item loads its scenario (an invalid file fails with every problem located) and runs it in a
session (`drills.run.session.run_scenarios`), as `drill run` does. The item
- passes when every expectation was met;
- fails with each broken or unmeasured expectation: what was expected, what was measured, the
  tolerance, and why the bound is what it is;
- is skipped, with the reason, when the scenario could NOT RUN here (e.g. an image is absent);
- records JUnit properties (`--junitxml`): run id, status, the RTO and RPO numbers each checker
  declares (`rto_s.<signal>`, `lost_writes.<signal>`, ...), and the verdict of each expectation.

Options: `--drill-reports DIR` (default: reports/ under the rootdir), `--drill-project NAME` (run
against a stack already up). Tests replace the executor through the module attribute `EXECUTE`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from drills.records.result import RunResult

    Executor = Callable[..., list[RunResult]]

# The hook: None runs drills for real (drills.run.session.run_scenarios); tests put a fake here. It is
# called as EXECUTE([(path, scenario)], project=..., reports_dir=...) and returns RunResults.
EXECUTE: Executor | None = None

HEAD_BYTES = 64 * 1024
_TOP_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)[ \t]*:", re.MULTILINE)
_ID = re.compile(r"^id[ \t]*:[ \t]*['\"]?([^'\"#\s]+)", re.MULTILINE)


def _head(path: Path) -> str:
    try:
        with path.open("rb") as fh:
            return fh.read(HEAD_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return ""


def is_scenario_file(path: Path) -> bool:
    """A YAML file whose top level has `id:` and `steps:` (or `faults:`): a scenario, not just any YAML."""
    if path.suffix not in (".yaml", ".yml"):
        return False
    keys = set(_TOP_KEY.findall(_head(path)))
    return "id" in keys and bool(keys & {"steps", "faults"})


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("drills", "drills: scenario files as tests")
    group.addoption("--drill-reports", default=None, metavar="DIR",
                    help="where drill results land (default: reports/ under the rootdir)")
    group.addoption("--drill-project", default=None, metavar="NAME",
                    help="run against a stack already up (`drill stack up`) instead of a fresh one per scenario")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix in (".yaml", ".yml") and is_scenario_file(file_path):
        collector: ScenarioFile = ScenarioFile.from_parent(parent, path=file_path)
        return collector
    return None


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        match = _ID.search(_head(self.path))
        yield ScenarioItem.from_parent(self, name=match[1] if match else self.path.stem)


class DrillFailed(Exception):
    """A drill ran and some expectation was not met (or not measured), or the harness failed."""


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    return str(value)


def _pairs(values: dict[str, Any]) -> str:
    shown = {k: v for k, v in values.items() if not k.endswith("_sample")}
    return ", ".join(f"{k}={_fmt(v)}" for k, v in shown.items()) or "nothing"


def failure_message(result: RunResult) -> str:
    """Why a drill did not pass: each verdict that did not hold, with its numbers."""
    head = f"drill {result.scenario_id} {result.status.upper()} (run {result.run_id}"
    head += f", {result.out_dir})" if result.out_dir is not None else ")"
    lines = [head]
    if result.reason:
        lines.append(f"  reason: {result.reason}")
    for v in result.verdicts:
        if v.passed:
            continue
        lines += [f"  {v.status.label} {v.checker} {v.subject}",
                  f"    expected:  {v.expectation}",
                  f"    measured:  {_pairs(v.measured)}",
                  f"    tolerance: {_pairs(v.bound)}",
                  f"    observed:  {v.observed}"]
        if v.why:
            lines.append(f"    why:       {' '.join(v.why.split())}")
    if not result.verdicts and not result.reason:
        lines.append("  no verdict: nothing was shown to hold")
    return "\n".join(lines)


def properties(result: RunResult) -> list[tuple[str, object]]:
    """JUnit properties of a drill: run, status, RTO and losses per signal, each verdict."""
    props: list[tuple[str, object]] = [("drill.run_id", result.run_id), ("drill.status", result.status)]
    if result.out_dir is not None:
        props.append(("drill.reports", str(result.out_dir)))
    if result.recovery_s is not None:
        props.append(("drill.recovery_s", round(result.recovery_s, 3)))
    from drills.checkers.registry import metrics_of

    for v in result.verdicts:
        for m in metrics_of(v.checker):
            if m.junit is not None and v.measured.get(m.measured) is not None:
                props.append((f"{m.junit}.{v.subject}", v.measured[m.measured]))
        props.append((f"verdict.{v.checker}.{v.subject}", v.status.value))
    if result.status == "not-run":
        props.append(("drill.not_run_reason", result.reason))
    return props


class ScenarioItem(pytest.Item):
    def runtest(self) -> None:
        from drills.files.scenario import load_scenario

        scenario = load_scenario(self.path)  # ScenarioError: every problem, located
        reports = self.config.getoption("drill_reports")
        reports_dir = Path(reports) if reports else self.config.rootpath / "reports"
        from drills.core.errors import DrillsError

        try:
            results = _executor()([(self.path, scenario)], project=self.config.getoption("drill_project"),
                                  reports_dir=reports_dir)
        except DrillsError as exc:  # the stack or the harness failed: JUnit still says so
            self.user_properties.extend([("drill.status", "error"), ("drill.error", str(exc).splitlines()[0])])
            raise
        if len(results) != 1:
            raise DrillFailed(f"drill {scenario.id}: expected one result, got {len(results)}")
        result = results[0]
        self.user_properties.extend(properties(result))
        if result.status == "not-run":
            pytest.skip(f"NOT RUN: {result.reason}")
        if result.status != "passed":
            raise DrillFailed(failure_message(result))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str | Any:
        from drills.core.errors import DrillsError

        if isinstance(excinfo.value, DrillFailed | DrillsError):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"drill {self.name}"


def _executor() -> Executor:
    if EXECUTE is not None:
        return EXECUTE
    from drills.run.session import run_scenarios

    return run_scenarios
