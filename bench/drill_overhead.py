"""Benchmark: what the harness adds to a drill, and how finely it resolves the RTO.

Runs scenarios with the real `drill run` against a stack that is already up (so stack boot is not
counted: `drill stack up --project P` first), then reads each run's journal and history:

- overhead = wall time / (the scenario's own steady + holds + after, + the system's recovery:
  the respawn (the heal phase: Docker starting a killed node) and the wait until the stack is
  ready again). Target <= 1.1. The phases the harness itself spends (warm-up, inject, heal,
  final reads and drain) are listed apart, so a regression names its phase.
- RTO resolution = for each signal that had an outage, the bracket in which recovery happened:
  from the start of the last failing op to the start of the first op of the sustained success.
  Target <= 50 ms (the workload's 50 ops/s grid gives 20 ms when failing ops fail fast). An op
  that blocks (a publish waiting 5 s for a confirm that never comes) widens the bracket to its
  own duration: one client process per signal cannot probe while it waits.

Run: .venv/bin/python bench/drill_overhead.py --project drills-bench scenarios/X.yaml ... -> bench/drill_overhead.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
HARNESS_PHASES = ("warm-up", "inject", "heal", "final-reads")


def rto_brackets(history: Path) -> dict[str, float]:
    """Per signal: width (s) of the interval in which the last outage ended."""
    ops: dict[str, list[dict[str, Any]]] = {}
    for line in history.read_text().splitlines():
        rec = json.loads(line)
        if rec.get("t") == "op":
            ops.setdefault(rec["signal"], []).append(rec)
    out: dict[str, float] = {}
    for signal, recs in ops.items():
        recs.sort(key=lambda r: r["start"])
        last_bad = max((i for i, r in enumerate(recs) if r["outcome"] != "ok"), default=None)
        if last_bad is None or last_bad + 1 >= len(recs):
            continue
        out[signal] = round(recs[last_bad + 1]["start"] - recs[last_bad]["start"], 4)
    return out


def measure(run_dir: Path) -> dict[str, Any]:
    journal = json.loads((run_dir / "journal.json").read_text())
    phases = {p["name"]: round(p["end_s"] - p["start_s"], 3) for p in journal["phases"] if p["end_s"] is not None}
    wall, scheduled = journal["timings"]["wall_s"], journal["timings"]["scheduled_s"]
    recovery = ((journal.get("recovery") or {}).get("since_heal_s") or 0.0) + phases.get("heal", 0.0)
    return {
        "scenario": journal["scenario"]["id"], "status": journal["status"], "wall_s": wall,
        "scheduled_s": scheduled, "recovery_s": recovery,
        "overhead_ratio": round(wall / (scheduled + recovery), 3),
        "harness_phases_s": {k: phases[k] for k in HARNESS_PHASES if k in phases},
        "rto_resolution_s": rto_brackets(run_dir / "history.jsonl"),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--project", required=True, help="a stack already up (drill stack up --project P)")
    ap.add_argument("scenarios", nargs="+")
    args = ap.parse_args()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for scenario in args.scenarios:
            subprocess.run([sys.executable, "-m", "drills", "run", "--project", args.project, "--reports", tmp,
                            scenario], check=False, stdout=subprocess.DEVNULL)
        for run_dir in sorted(p for p in Path(tmp).iterdir() if (p / "journal.json").is_file()):
            runs.append(measure(run_dir))
    worst_res = max((v for r in runs for v in r["rto_resolution_s"].values()), default=None)
    result = {"runs": runs, "max_overhead_ratio": max(r["overhead_ratio"] for r in runs),
              "max_rto_resolution_s": worst_res, "target_overhead_ratio": 1.1, "target_rto_resolution_s": 0.05}
    (HERE / "drill_overhead.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
