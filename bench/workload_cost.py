"""Benchmark: what the workload costs the runner, and the rates it holds, against a real stack.

Brings up its own stack (torn down at the end), runs the real clients through
`drills.workload.suite.build_workload` at 50 ops/s per signal into a real History, and measures,
after a warm-up: ops/s achieved per signal and outcome, op latency, the runner process's CPU (one
core = 100 %) and RSS. `http.dashboard` probes the balancer; without dashboards behind it those
probes fail fast with 503, which costs the runner the same as a 200.
Run: .venv/bin/python bench/workload_cost.py [seconds] -> bench/workload_cost.json
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from drills.core.history import History, load
from drills.files.scenario import Scenario
from drills.stack import ComposeProject
from drills.workload.suite import build_workload

HERE = Path(__file__).parent
DURATION = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
WARMUP_S = 3.0
SIGNALS = ("postgres.write", "rabbitmq.publish", "http.dashboard")
RATE = 50.0


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> None:
    scenario = Scenario.model_validate({
        "id": "bench", "title": "workload cost", "policy": "-",
        "workload": {s: {"rate": RATE} for s in SIGNALS},
        "steps": [{"fault": "kill", "target": "pg1"}], "expectations": [{"checker": "steady-state", "why": "-"}],
    })
    with ComposeProject.create(mongo=False) as stack, tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.jsonl"
        history = History(path)
        t0 = time.monotonic()
        workload = build_workload(scenario, stack, history.append, t0)
        workload.start()
        time.sleep(WARMUP_S)
        cpu0, w0 = time.process_time(), time.monotonic()
        time.sleep(DURATION)
        cpu, wall, rss = time.process_time() - cpu0, time.monotonic() - w0, rss_mb()
        workload.stop()
        drained = workload.drain()
        workload.final_reads()
        history.close()
        ops, _ = load(path)
    window = [o for o in ops if w0 - t0 <= o.start < w0 - t0 + DURATION]
    rates = Counter(f"{o.signal}:{o.outcome.value}" for o in window)
    latency = {}
    for signal in SIGNALS:
        lat = [(o.end - o.start) * 1000 for o in window if o.signal == signal]
        latency[signal] = {"p50_ms": round(percentile(lat, 0.5), 1), "p99_ms": round(percentile(lat, 0.99), 1),
                           "max_ms": round(max(lat, default=float("nan")), 1)}
    result = {
        "signals": list(SIGNALS), "rate_per_signal": RATE, "clients_per_signal": 1, "duration_s": DURATION,
        "ops_per_s": {k: round(v / DURATION, 1) for k, v in sorted(rates.items())},
        "latency": latency,
        "skipped_slots": {s: r["skipped_slots"] for s, r in workload.summary().items()},
        "runner_cpu_percent_of_one_core": round(100 * cpu / wall, 1),
        "runner_rss_mb": round(rss, 1),
        "queue_drained": drained,
    }
    (HERE / "workload_cost.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
