"""The policy suite on an operator variation of the reference stack (stacks/examples/<name>), compacted:
per scenario its outcome in each run, and each verdict's checker, what it measured and its bound,
next to the reference stack's pass rate (bench/policy_suite_repeat.json: 10 runs, same machine).

Run the drills first, one variation at a time (each writes its own reports directory), then:

    .venv/bin/drill run --suite policy --stack stacks/reference \\
        -f stacks/examples/<name>/override.yaml --reports /tmp/examples-<name>
    .venv/bin/python bench/examples_summary.py <name> /tmp/examples-<name> [more reports dirs...]
        -> bench/examples/<name>-summary.json, and the table for stacks/examples/<name>/README.md
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
REFERENCE = HERE / "policy_suite_repeat.json"


def reference_rates() -> dict[str, str]:
    doc = json.loads(REFERENCE.read_text())
    return {s["scenario"]: f"{s['verdict']} {s['passed']}/{s['samples']}" for s in doc["scenarios"]}


def runs(reports: list[Path]) -> dict[str, list[dict[str, Any]]]:
    """scenario -> its runs in these reports directories, oldest first (NOT RUN left out)."""
    from drills.checkers.verdict import Status, Verdict
    from drills.report.summary import rpo_of, rto_of

    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for journal in sorted((j for r in reports for j in r.glob("*/journal.json")), key=lambda p: p.parent.name):
        doc = json.loads(journal.read_text())
        if doc["status"] == "not-run":
            continue
        verdicts = [Verdict(v["checker"], v["subject"], v["expectation"], v["observed"], Status(v["status"]),
                            v.get("measured", {}), v.get("bound", {})) for v in doc["verdicts"]]
        found[doc["scenario"]["id"]].append({
            "run_id": doc["run_id"], "status": doc["status"],
            "rto": rto_of(verdicts) if verdicts else "-", "rpo": rpo_of(verdicts),
            # What decided a verdict other than passed: the checker, what it measured, its bound.
            "not_passed": [{"checker": v.checker, "subject": v.subject, "status": v.status.value,
                            "observed": v.observed, "bound": v.expectation} for v in verdicts
                           if v.status is not Status.PASS],
        })
        if doc.get("reason"):  # an ERROR or ABORTED run: why the harness could not judge it
            found[doc["scenario"]["id"]][-1]["reason"] = doc["reason"]
    return dict(sorted(found.items()))


def table(found: dict[str, list[dict[str, Any]]], reference: dict[str, str]) -> str:
    """Markdown: one row per scenario; the deciding checkers are those that did not pass (or, when
    all passed, none is named)."""
    lines = ["| scenario | reference (10 runs) | here | decided by: measured (bound) |", "|---|---|---|---|"]
    for scenario, rs in found.items():
        passed = sum(r["status"] == "passed" for r in rs)
        deciding = [f"{v['checker']} {v['subject']}: {v['observed']} ({v['bound']})"
                    for r in rs for v in r["not_passed"]]
        deciding += [f"{r['status']}: {r['reason']}" for r in rs if "reason" in r]
        here = f"{passed}/{len(rs)} passed"
        lines.append(f"| {scenario} | {reference.get(scenario, '-')} | {here} | {'<br>'.join(deciding) or '-'} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="the example's folder under stacks/examples")
    parser.add_argument("reports", nargs="+", type=Path, help="the reports directories of its runs")
    args = parser.parse_args()
    found = runs(args.reports)
    out = HERE / "examples" / f"{args.name}-summary.json"
    out.parent.mkdir(exist_ok=True)
    doc = {"example": args.name, "override": f"stacks/examples/{args.name}/override.yaml",
           "reference": REFERENCE.name, "scenarios": found}
    out.write_text(json.dumps(doc, indent=1) + "\n")
    print(table(found, reference_rates()))


if __name__ == "__main__":
    main()
