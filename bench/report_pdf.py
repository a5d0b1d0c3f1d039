"""Benchmark: what `drill report --format pdf` costs over the HTML alone, on a suite of five runs
(the unit tests' synthetic runs: PASSED, FAILED, NOT RUN, ERROR, PASSED; real writers and checkers).

Run: PYTHONPATH=. .venv/bin/python bench/report_pdf.py   -> writes bench/report_pdf.json
No target: WeasyPrint's layout is the cost (seconds, against well under one for the HTML); the
figure is recorded so that a slower template or WeasyPrint release shows up here, not in a test.
Children's CPU time is recorded beside wall time: on a shared machine the wall time varies with load.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pypdfium2 as pdfium

from tests.report_factory import make_not_run, make_run

HERE = Path(__file__).parent
DRILL = str(Path(sys.executable).with_name("drill"))
RUNS = 3


def suite(root: Path) -> Path:
    make_run(root)
    make_run(root, outage=(5.3, 27.0), lost=3, after=15.0)
    make_not_run(root)
    make_run(root, status="error", reason="StackError: pg1 refused")
    make_run(root)
    return root


def timed(argv: list[str]) -> dict[str, float]:
    walls, cpus = [], []
    for _ in range(RUNS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return {"median_wall_s": round(statistics.median(walls), 2), "max_wall_s": round(max(walls), 2),
            "median_cpu_s": round(statistics.median(cpus), 2), "runs": RUNS}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        reports, out = suite(Path(tmp) / "reports"), Path(tmp) / "out"
        result: dict[str, object] = {"suite": "5 runs (passed, failed, not-run, error, passed)",
                                     "load_average_1m": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}
        for fmt in ("html", "pdf"):
            result[f"drill report --format {fmt}"] = timed([DRILL, "report", str(reports), "--out", str(out),
                                                            "--format", fmt])
        pdf = out / "drill-report.pdf"
        result["pdf"] = {"pages": len(pdfium.PdfDocument(pdf)), "bytes": pdf.stat().st_size}
    (HERE / "report_pdf.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
