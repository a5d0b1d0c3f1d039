"""JUnit XML for CI: one test case per verdict; NOT MEASURED fails (it was not shown to hold),
a scenario that could not run is skipped with its reason."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from drills.checkers.verdict import Status, Verdict


def write_junit(path: Path, scenario_id: str, verdicts: Sequence[Verdict], *, duration_s: float,
                not_run_reason: str | None = None, error: str | None = None) -> None:
    suite = ET.Element("testsuite", name=f"drills.{scenario_id}", time=f"{duration_s:.3f}")
    failures = skipped = errors = 0
    if not_run_reason is not None:
        case = ET.SubElement(suite, "testcase", classname=scenario_id, name="scenario", time="0")
        ET.SubElement(case, "skipped", message=f"NOT RUN: {not_run_reason}")
        skipped += 1
    if error is not None:
        case = ET.SubElement(suite, "testcase", classname=scenario_id, name="harness", time="0")
        ET.SubElement(case, "error", message=error)
        errors += 1
    for v in verdicts:
        case = ET.SubElement(suite, "testcase", classname=scenario_id, name=f"{v.checker} {v.subject}", time="0")
        props = ET.SubElement(case, "properties")
        for key, value in {**{f"measured.{k}": x for k, x in v.measured.items()},
                           **{f"bound.{k}": x for k, x in v.bound.items()}}.items():
            ET.SubElement(props, "property", name=key, value=str(value))
        text = f"documented: {v.expectation}\nobserved: {v.observed}\nwhy: {v.why}"
        if v.status is Status.FAIL:
            failure = ET.SubElement(case, "failure", message=f"expected {v.expectation}; observed {v.observed}",
                                    type="expectation-not-met")
            failure.text = text
            failures += 1
        elif v.status is Status.NOT_MEASURED:
            failure = ET.SubElement(case, "failure", message=f"not measured: {v.observed}", type="not-measured")
            failure.text = text
            failures += 1
        elif v.status is Status.ERROR:
            ET.SubElement(case, "error", message=v.observed, type="checker-error").text = f"{text}\n{v.error}"
            errors += 1
        else:
            ET.SubElement(case, "system-out").text = text
    suite.set("tests", str(len(suite.findall("testcase"))))
    suite.set("failures", str(failures))
    suite.set("skipped", str(skipped))
    suite.set("errors", str(errors))
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
