"""Benchmark: runner memory while recording 1 000 operations/s into the history.

20 client threads each record 50 ops/s (the default per-signal rate) for DURATION seconds, the way
the workload does; we sample the process's RSS. Target: <= 200 MB RSS.
Run: .venv/bin/python bench/runner_memory.py  -> bench/runner_memory.json
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

from drills.core.history import History, Op, Outcome, load

HERE = Path(__file__).parent
THREADS, RATE, DURATION = 20, 50.0, float(sys.argv[1]) if len(sys.argv) > 1 else 30.0


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def client(history: History, n: int, t0: float, stop: threading.Event) -> None:
    seq = 0
    while not stop.is_set():
        start = time.monotonic() - t0
        history.append(Op(f"signal{n % 5}", n, "write", seq, start, start + 0.001,
                          Outcome.OK if seq % 50 else Outcome.FAIL, None if seq % 50 else "timeout"))
        seq += 1
        # fixed grid: the next op is due at seq / RATE, whatever this one cost
        delay = seq / RATE - (time.monotonic() - t0)
        if delay > 0:
            time.sleep(delay)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.jsonl"
        history = History(path)
        stop = threading.Event()
        t0 = time.monotonic()
        threads = [threading.Thread(target=client, args=(history, n, t0, stop)) for n in range(THREADS)]
        for t in threads:
            t.start()
        samples = []
        while time.monotonic() - t0 < DURATION:
            time.sleep(1.0)
            samples.append(rss_mb())
        stop.set()
        for t in threads:
            t.join()
        history.close()
        elapsed = time.monotonic() - t0
        t_load = time.perf_counter()
        ops, _ = load(path)
        load_s = time.perf_counter() - t_load
        result = {
            "threads": THREADS, "target_ops_per_s": THREADS * RATE, "duration_s": round(elapsed, 1),
            "ops_recorded": len(ops), "achieved_ops_per_s": round(len(ops) / elapsed, 1),
            "rss_mb_max_while_recording": round(max(samples), 1),
            "rss_mb_peak_incl_loading_history": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "history_mb": round(path.stat().st_size / 1e6, 2), "load_s": round(load_s, 2),
            "target_rss_mb": 200,
        }
    (HERE / "runner_memory.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
