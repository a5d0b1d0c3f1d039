"""journal.json: everything about one drill except the raw history (which is history.jsonl).

Phases follow pytest's protocol: every phase yields a record (start, end, status, detail), so a
journal shows where a drill failed or was aborted.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from drills import __version__


@dataclass
class PhaseRecord:
    name: str
    start_s: float
    end_s: float | None = None
    status: str = "running"  # ok | failed | aborted
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "start_s": round(self.start_s, 3),
                "end_s": None if self.end_s is None else round(self.end_s, 3), "status": self.status,
                "detail": self.detail}


@dataclass
class FaultRecord:
    """One fault of the drill as the journal shows it: the step's kind and target, the services it
    resolved to when injected, and when it was injected and healed (seconds into the drill)."""

    id: str
    kind: str
    target: str
    resolved: list[str]
    injected_s: float
    healed_s: float | None = None  # None: not healed by its step (`heal: false`, or the drill stopped)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "kind": self.kind, "target": self.target, "resolved": self.resolved,
                                "injected_s": self.injected_s}
        if self.healed_s is not None:
            data["healed_s"] = self.healed_s
        return data


@dataclass
class Journal:
    run_id: str
    scenario: dict[str, Any]
    scenario_file: str
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    phases: list[PhaseRecord] = field(default_factory=list)
    faults: list[FaultRecord] = field(default_factory=list)
    recovery: dict[str, Any] = field(default_factory=dict)
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    pacing: list[dict[str, Any]] = field(default_factory=list)  # per signal (drills.workload.pacing.Pacing)
    status: str = "running"  # passed | failed | not-run | aborted | error
    reason: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    left_out: list[str] = field(default_factory=list)  # parts of the scenario NOT RUN on this stack, with why

    def write(self, path: Path) -> None:
        data = {
            "run_id": self.run_id, "status": self.status, "reason": self.reason,
            "started_at": self.started_at, "ended_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "scenario_file": self.scenario_file, "scenario": self.scenario,
            "phases": [p.to_json() for p in self.phases], "faults": [f.to_json() for f in self.faults],
            "recovery": self.recovery,
            "verdicts": self.verdicts, "pacing": self.pacing, "timings": self.timings, "environment": self.environment,
            "left_out": self.left_out,
        }
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
        tmp.replace(path)


def environment(images: dict[str, str] | None = None, effective: dict[str, Any] | None = None,
                stack: dict[str, Any] | None = None, image_digests: dict[str, Any] | None = None) -> dict[str, Any]:
    """Harness version and commit, host facts, image tags: what a reader needs to reproduce a run.
    `effective`: the stack's configuration as read back from it when the drill started
    (`drills.stack.effective.EffectiveConfig.to_json`); absent where no stack was drilled.
    `stack`: the stack drilled, or the one a NOT RUN scenario was fitted to (name, file,
    components, roles, what the scenario needed that it lacks, and the path the database signals
    took: through its proxy or to every member: `StackDefinition.record`)."""
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=5).stdout.strip() or None
    except (OSError, subprocess.TimeoutExpired):
        commit = None
    env = {
        "harness_version": __version__, "git_commit": commit, "python": platform.python_version(),
        "host": {"system": platform.system(), "release": platform.release(), "machine": platform.machine(),
                 "cpus": os.cpu_count()},
        "images": images or {}, "recorded_at_unix": time.time(),
    }
    if image_digests is not None:  # the images' content, by service (drills.stack.image_digests)
        env["image_digests"] = image_digests
    if effective is not None:
        env["effective"] = effective
    if stack is not None:
        env["stack"] = stack
    return env
