"""Benchmark: wall time of the whole policy suite (`drill run --suite policy`), one stack reused.

Target: <= 10 minutes on this 2-core machine. Records the total wall time (stack boot
included) and each scenario's own wall time, status, RTO and RPO as the summary table shows them.

Run: .venv/bin/python bench/policy_suite.py            -> runs the suite, writes bench/policy_suite.json
     .venv/bin/python bench/policy_suite.py --from-runs reports/<run-id> ... --wall-s N
                                                        -> summarises runs already made
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


def summarise(run_dirs: list[Path]) -> list[dict[str, Any]]:
    from drills.checkers.verdict import Status, Verdict
    from drills.report.summary import rpo_of, rto_of

    rows = []
    for d in sorted(run_dirs, key=lambda p: p.name):
        j = json.loads((d / "journal.json").read_text())
        verdicts = [Verdict(v["checker"], v["subject"], v["expectation"], v["observed"], Status(v["status"]),
                            v.get("measured", {}), v.get("bound", {})) for v in j.get("verdicts", [])]
        rows.append({"scenario": j["scenario"]["id"], "status": j["status"],
                     "wall_s": (j.get("timings") or {}).get("wall_s"),
                     "rto": rto_of(verdicts) if verdicts else "-", "rpo": rpo_of(verdicts)})
    return rows


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--from-runs", nargs="*", type=Path, help="summarise these run directories instead")
    ap.add_argument("--wall-s", type=float, help="with --from-runs: the suite's measured wall time")
    args = ap.parse_args()
    if args.from_runs:
        rows, wall = summarise(args.from_runs), args.wall_s
    else:
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.monotonic()
            subprocess.run([sys.executable, "-m", "drills", "run", "--suite", "policy", "--reports", tmp], check=False)
            wall = round(time.monotonic() - t0, 1)
            rows = summarise([p for p in Path(tmp).iterdir() if (p / "journal.json").is_file()])
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    result = {"suite": "policy", "wall_s": wall, "target_wall_s": 600, "counts": counts,
              "scenarios_wall_s_sum": round(sum(r["wall_s"] or 0 for r in rows), 1), "runs": rows,
              "host": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()}}
    (HERE / "policy_suite.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
