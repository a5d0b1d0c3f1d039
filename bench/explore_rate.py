"""Benchmark: how fast `drill explore` tries schedules on this machine, and what shrinking costs.

Runs the real `drill explore FILE --budget B --seed S` (one stack, brought up once) and reads its
summary.json and the journals of its drills: examples (distinct schedules) and drills (re-runs of
failing schedules included) per minute of search, each drill's wall time against the time its
schedule holds (steady + holds + after), the stack's boot, and, when an invariant failed, the
shrink steps and drills spent after the first failure.

Run: .venv/bin/python bench/explore_rate.py [--file F] [-f OVERRIDE] [--budget 6m] [--seed S] [--out NAME]
                                            -> runs an exploration, writes bench/NAME (explore_rate.json);
                                               its folder is kept (in a temporary directory, printed)
     .venv/bin/python bench/explore_rate.py --from-folder reports/explore-...   -> summarises one already made
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
ROOT = HERE.parent


def summarise(folder: Path, wall_s: float | None) -> dict[str, Any]:
    summary = json.loads((folder / "summary.json").read_text())
    examples = summary["examples"]
    drills = [run for ex in examples for run in ex["runs"]]
    timings = []
    for run in drills:
        journal = folder / run["run_id"] / "journal.json"
        if journal.is_file():
            timings.append(json.loads(journal.read_text()).get("timings") or {})
    walls = [t["wall_s"] for t in timings if t.get("wall_s")]
    scheduled = [t["scheduled_s"] for t in timings if t.get("scheduled_s")]
    minutes = (summary["search_s"] or 0) / 60
    first_fail = next((i for i, ex in enumerate(examples) if ex["failing"]), None)
    after_first = examples[first_fail + 1:] if first_fail is not None else []
    return {
        "exploration": summary["exploration"], "seed": summary["seed"], "budget_s": summary["budget_s"],
        "exit_code": summary["exit_code"], "command_wall_s": wall_s, "stack_up_s": summary["stack_up_s"],
        "search_s": summary["search_s"], "examples": len(examples), "drills": len(drills),
        "examples_per_min": round(len(examples) / minutes, 2) if minutes else None,
        "drills_per_min": round(len(drills) / minutes, 2) if minutes else None,
        "drill_wall_s": {"median": round(statistics.median(walls), 1), "min": min(walls), "max": max(walls)}
        if walls else None,
        "drill_scheduled_s_median": round(statistics.median(scheduled), 1) if scheduled else None,
        "statuses": {s: sum(1 for r in drills if r["status"] == s) for s in sorted({r["status"] for r in drills})},
        "failing_examples": sum(1 for ex in examples if ex["failing"]),
        "flaky_examples": sum(1 for ex in examples if ex["flaky"]),
        "sought": summary["sought"], "shrink_steps": summary["shrink_steps"],
        "drills_after_first_failure": sum(len(ex["runs"]) for ex in after_first),
        # Shrinking's cost per failure found: schedules tried as smaller candidates, and their drills.
        "shrink_candidates": sum(1 for ex in examples if ex["phase"] == "shrink"),
        "shrink_drills": sum(len(ex["runs"]) for ex in examples if ex["phase"] == "shrink"),
        "first_failure": None if first_fail is None else {
            "example": first_fail + 1,
            "drills_before": sum(len(ex["runs"]) for ex in examples[:first_fail]),
            # the drills' own wall time up to and including the first failing one (baseline waits not counted)
            "drill_wall_s_until": round(sum(_wall(folder, run) for ex in examples[:first_fail + 1]
                                            for run in ex["runs"]), 1)},
        "budget_spent": summary["budget_spent"], "minimal": summary["minimal"],
        "host": {"cpus": os.cpu_count(), "python": platform.python_version(),
                 "loadavg_at_end": [round(x, 2) for x in os.getloadavg()]},
    }


def _wall(folder: Path, run: dict[str, Any]) -> float:
    journal = folder / run["run_id"] / "journal.json"
    if not journal.is_file():
        return 0.0
    return float((json.loads(journal.read_text()).get("timings") or {}).get("wall_s") or 0.0)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--file", type=Path, default=ROOT / "explorations" / "postgres-failover.yaml")
    ap.add_argument("--budget", default="6m")
    ap.add_argument("--seed", default="1")
    ap.add_argument("-f", "--override", type=Path, action="append", default=[], help="a Compose override")
    ap.add_argument("--out", default="explore_rate.json")
    ap.add_argument("--from-folder", type=Path, help="summarise this exploration folder instead of running one")
    args = ap.parse_args()
    if args.from_folder:
        result = summarise(args.from_folder, None)
    else:
        tmp = tempfile.mkdtemp(prefix="explore-rate-")  # kept: every drill's records, to look into
        overrides = [arg for path in args.override for arg in ("-f", str(path))]
        t0 = time.monotonic()
        subprocess.run([sys.executable, "-m", "drills", "explore", str(args.file), *overrides, "--budget",
                        args.budget, "--seed", args.seed, "--reports", tmp], cwd=ROOT, check=False)
        wall = round(time.monotonic() - t0, 1)
        [folder] = Path(tmp).glob("explore-*")
        print(f"exploration folder: {folder}", file=sys.stderr)
        result = summarise(folder, wall)
        result["overrides"] = [str(p) for p in args.override]
    (HERE / args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "minimal"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
