"""Benchmark: the policy suite N times over on one healthy stack (`drill run --suite policy --repeat N`).

Goals: every scenario passes N of N (false-failure rate <= 1 %), and the suite's wall
time <= 600 s per repetition, the first one including the stack's boot. Records, from the JSON
summary `drill run` writes: per scenario the pass rate, verdict (MET, FLAKY, NOT MET, NOT RUN),
RTO / outage / RPO as min, p50, p95, max and n (nearest-rank percentiles), and for every run that
did not pass what it observed; per repetition the wall time; the stack's boot time.

Run:  .venv/bin/python bench/policy_suite_repeat.py --repeat 10     -> bench/policy_suite_repeat.json
      .venv/bin/python bench/policy_suite_repeat.py --repeat 1 scenarios/dashboard-instance-lost.yaml
                                                                     (a quick check of this script)
      .venv/bin/python bench/policy_suite_repeat.py --from-summary reports/summary-<time>.json
                                                                     (summarise a `drill run` made by hand)
The run's reports (journals, histories) go to a temporary directory unless --reports names one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
ROOT = HERE.parent
TARGET_WALL_S = 600
TARGET_FALSE_FAILURE_RATE = 0.01


def summarise(summary: dict[str, Any], *, command: list[str], wall_s: float | None, rc: int | None) -> dict[str, Any]:
    """The benchmark's result from `drill run`'s JSON summary."""
    reps = summary.get("repetitions") or []
    boot = summary.get("stack_up_s")
    repetitions = [{**r, "wall_s_with_boot": round(r["wall_s"] + boot, 1)
                    if r["index"] == 1 and r.get("wall_s") is not None and boot is not None else r.get("wall_s")}
                   for r in reps]
    runs_by_id = {r["run_id"]: r for r in summary.get("runs") or []}
    scenarios = []
    for sc in summary.get("scenarios") or []:
        not_passed = [{"repetition": r["repetition"], "outcome": r["outcome"], "run_id": r["run_id"],
                       "observed": runs_by_id.get(r["run_id"], {}).get("observed")}
                      for r in sc["runs"] if r["outcome"] != "passed"]
        scenarios.append({
            "scenario": sc["scenario"], "verdict": sc["verdict"], "passed": sc["counts"]["passed"],
            "samples": sc["samples"], "pass_rate": sc["pass_rate"], "flaky": sc["flaky"], "counts": sc["counts"],
            "metrics": [{k: m[k] for k in ("kind", "subject", "unit", "target", "n", "not_measured", "min", "p50",
                                           "p95", "max", "over_target")} for m in sc["metrics"]],
            "wall_s": [r["wall_s"] for r in sc["runs"]], "not_passed": not_passed,
        })
    ran = [s for s in scenarios if s["verdict"] != "NOT RUN"]
    attempts = sum(s["samples"] - s["counts"]["not-run"] - s["counts"]["aborted"] for s in ran)
    failures = sum(s["samples"] - s["passed"] - s["counts"]["not-run"] - s["counts"]["aborted"] for s in ran)
    walls = [r["wall_s_with_boot"] for r in repetitions if r.get("complete") and r.get("wall_s_with_boot")]
    return {
        "suite": "policy" if "--suite" in command else None, "command": " ".join(command),
        "repeat": summary.get("repeat"),
        "started_at": summary.get("started_at"), "ended_at": summary.get("ended_at"),
        "interrupted": summary.get("interrupted"), "exit_code": rc if rc is not None else summary.get("exit_code"),
        "wall_s": wall_s, "stack_up_s": boot, "repetitions": repetitions,
        "goals": {
            "max_wall_s_per_repetition": TARGET_WALL_S, "max_false_failure_rate": TARGET_FALSE_FAILURE_RATE,
            "every_repetition_within_wall_s": bool(walls) and all(w <= TARGET_WALL_S for w in walls),
            "max_repetition_wall_s_with_boot": max(walls, default=None),
            "false_failures": failures, "attempts": attempts,
            "false_failure_rate": round(failures / attempts, 4) if attempts else None,
            "every_scenario_met": bool(ran) and all(s["verdict"] == "MET" for s in ran),
            "below_goal": [s["scenario"] for s in ran if s["verdict"] != "MET"],
            "not_run": [s["scenario"] for s in scenarios if s["verdict"] == "NOT RUN"],
        },
        "percentile_method": summary.get("percentile_method"), "scenarios": scenarios,
        "host": {"cpus": os.cpu_count(), "python": platform.python_version(), "machine": platform.machine()},
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="*", type=Path, help="scenario files instead of the whole policy suite")
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--reports", type=Path, default=None, help="keep the runs here (default: a temporary directory)")
    ap.add_argument("--out", type=Path, default=HERE / "policy_suite_repeat.json")
    ap.add_argument("--from-summary", type=Path, default=None, help="summarise this `drill run` JSON summary")
    args = ap.parse_args()
    if args.from_summary:
        summary = json.loads(args.from_summary.read_text())
        result = summarise(summary, command=["drill run (by hand)", str(args.from_summary)], wall_s=None, rc=None)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            reports = args.reports or Path(tmp) / "reports"
            summary_path = Path(tmp) / "summary.json"
            what = [str(f) for f in args.files] or ["--suite", "policy"]
            command = [sys.executable, "-m", "drills", "run", *what, "--repeat", str(args.repeat),
                       "--reports", str(reports), "--summary", str(summary_path)]
            t0 = time.monotonic()
            rc = subprocess.run(command, cwd=ROOT, check=False).returncode
            wall = round(time.monotonic() - t0, 1)
            if not summary_path.exists():
                print(f"drill run exited {rc} without a summary", file=sys.stderr)
                return 1
            summary = json.loads(summary_path.read_text())
            result = summarise(summary, command=["drill", "run", *what, "--repeat", str(args.repeat)], wall_s=wall,
                               rc=rc)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("command", "exit_code", "wall_s", "stack_up_s", "goals")}, indent=2))
    for s in result["scenarios"]:
        rto = next((m for m in s["metrics"] if m["kind"] == "RTO" and m["n"]), None)
        print(f"{s['scenario']:48} {s['passed']}/{s['samples']} {s['verdict']:10}"
              + (f" RTO {rto['subject']} p50 {rto['p50']} p95 {rto['p95']} (n={rto['n']})" if rto else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
