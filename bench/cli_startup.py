"""Benchmark: wall time of `drill --help` and of a second `drill setup` (everything present).

Run: .venv/bin/python bench/cli_startup.py   -> writes bench/cli_startup.json
Targets: `drill --help` <= 0.3 s; a second `drill setup` < 10 s.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
DRILL = str(Path(sys.executable).with_name("drill"))


def timed(argv: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    help_times = timed([DRILL, "--help"], 20)
    setup_times = timed([DRILL, "setup"], 3)
    result = {
        "drill --help": {"median_s": round(statistics.median(help_times), 3), "max_s": round(max(help_times), 3),
                         "target_s": 0.3, "runs": len(help_times)},
        "drill setup (already provisioned)": {"median_s": round(statistics.median(setup_times), 3),
                                              "max_s": round(max(setup_times), 3), "target_s": 10.0,
                                              "runs": len(setup_times)},
    }
    (HERE / "cli_startup.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
