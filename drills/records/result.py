"""What one scenario's run came to: the runner returns it; the summary table, the repeat
statistics, the run log and the pytest plugin read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from drills.checkers.verdict import Verdict
from drills.workload.pacing import Pacing


@dataclass
class RunResult:
    run_id: str
    scenario_id: str
    status: str  # passed | failed | not-run | aborted | error
    verdicts: list[Verdict] = field(default_factory=list)
    out_dir: Path | None = None
    reason: str = ""
    wall_s: float = 0.0
    recovery_s: float | None = None
    scheduled_s: float = 0.0
    policy: str = ""  # the policy text the scenario encodes: the documented outcome
    # Whether each signal kept its configured rate in steady (drills.workload.pacing); judges no
    # verdict of its own: `drill explore` re-runs a drill that did not hold, `drill run` says so.
    pacing: list[Pacing] = field(default_factory=list)
