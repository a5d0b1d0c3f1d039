"""What a `drill run` did, kept as it goes: the record behind its JSON summary and, with
`--repeat N`, its per-scenario table of pass rates and distributions.

    RunLog                         results (with their repetition), repetitions, stack boot time
    write_summary(log, path, ...)  the JSON summary (`drill run --summary`)
    print_repeats(log)             the console table of `--repeat N`

The aggregation itself is `drills.report.repeats` (pure); this module only gathers and writes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from drills.records.evidence import read_manifest
from drills.report.repeats import (
    PERCENTILE_METHOD,
    aggregate,
    fmt_distribution,
    pass_rate_text,
    sample_of_result,
)
from drills.report.summary import not_held, summary_row

if TYPE_CHECKING:
    from pathlib import Path

    from drills.records.result import RunResult


@dataclass
class RunLog:
    """What a `drill run` has done so far, kept current as it goes, so that an interrupted run
    still reports every run that completed (and the one it interrupted, as aborted)."""

    repeat: int = 1
    results: list[tuple[int, RunResult]] = field(default_factory=list)  # (repetition, result)
    repetitions: list[dict[str, Any]] = field(default_factory=list)  # index, wall_s, complete
    stack_up_s: float | None = None
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))


def write_summary(log: RunLog, path: Path, *, exit_code: int | None) -> None:
    """The JSON summary: every run (with its repetition and outcome), per scenario the pass rate,
    flaky and distributions, per repetition its wall time; `exit_code` None when stopped early."""
    runs = []
    samples = []
    for rep, r in log.results:
        seq = (read_manifest(r.out_dir) or {}).get("seq") if r.out_dir is not None else None
        sample = sample_of_result(r, rep, seq if isinstance(seq, int) else None)
        samples.append(sample)
        row = summary_row(r)
        runs.append({"repetition": rep, "scenario": r.scenario_id, "run_id": r.run_id, "seq": sample.seq,
                     "status": r.status, "outcome": sample.outcome, "documented": row.documented,
                     "observed": row.observed, "rto": row.rto, "rpo": row.rpo, "wall_s": sample.wall_s,
                     "assumptions": [{"expectation": exp, **a.to_json()} for exp, a in not_held(r.verdicts)],
                     "dir": None if r.out_dir is None else str(r.out_dir)})
    scenarios = aggregate(samples)
    data = {
        "format": 1, "started_at": log.started_at, "ended_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "repeat": log.repeat, "interrupted": exit_code is None, "exit_code": exit_code,
        "stack_up_s": log.stack_up_s, "repetitions": log.repetitions, "percentile_method": PERCENTILE_METHOD,
        "scenarios": [s.to_json() for s in scenarios], "runs": runs,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def print_repeats(log: RunLog) -> None:
    """Per scenario over the repetitions: pass rate, verdict (MET, FLAKY, NOT MET, ...), and each
    RTO/outage/RPO as p50, p95, min, max and n."""
    from rich.console import Console
    from rich.table import Table


    done = sum(1 for r in log.repetitions if r["complete"])
    table = Table(title=f"over {done} of {log.repeat} repetition(s)", show_lines=True,
                  caption=f"percentiles: {PERCENTILE_METHOD}")
    for col in ("scenario", "runs", "verdict", "RTO", "outage", "RPO"):
        table.add_column(col, overflow="fold")
    colors = {"MET": "green", "FLAKY": "red", "NOT MET": "red", "NOT RUN": "yellow"}
    for rep in aggregate(sample_of_result(r, i) for i, r in log.results):
        cells = {kind: "\n".join(f"{d.key.subject}: {fmt_distribution(d)}" for d in rep.metrics if d.key.kind == kind)
                 or "-" for kind in ("RTO", "outage", "RPO")}
        table.add_row(rep.scenario_id, pass_rate_text(rep), f"[{colors.get(rep.verdict, 'yellow')}]{rep.verdict}[/]",
                      cells["RTO"], cells["outage"], cells["RPO"])
    Console(stderr=True, width=max(160, Console(stderr=True).width)).print(table)
    walls = ", ".join(f"{r['index']}: {r['wall_s']} s" + ("" if r["complete"] else " (interrupted)")
                      for r in log.repetitions)
    click.echo(f"wall time per repetition: {walls}"
               + (f"; stack boot {log.stack_up_s} s" if log.stack_up_s is not None else ""), err=True)
