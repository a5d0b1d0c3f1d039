"""Explorations read back for the DR report: what each `drill explore` found, with its replayable
scenario attached, and what it covered when it found nothing.

    find_exploration_dirs(paths) -> list[Path]   exploration folders named, or directly under reports directories
    load_exploration(folder) -> ExplorationView  its summary.json (redacted) and its minimal scenario's text

A nightly exploration writes its folder next to the suite's runs (`--reports`), so `drill report
reports/` reports both. The report reads summary.json, the record `drill explore` writes whatever
stopped it; it does not import the search (records, not code, are what a report stands on).
A folder without a readable summary.json is reported as such, never as "nothing found".
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drills.report.runs import redact, redact_text, secret_values

SUMMARY = "summary.json"
PREFIX = "explore-"

# What an exploration's outcome is called in the report, and the badge it wears.
FOUND, FLAKY, NOTHING_FOUND, NOTHING_JUDGED, NOT_RUN, NO_SUMMARY = (
    "FINDING", "FLAKY", "NO FAILURE FOUND", "NOTHING JUDGED", "NOT RUN", "NO SUMMARY")
OUTCOME_CLASS = {FOUND: "fail", FLAKY: "warn", NOTHING_FOUND: "pass", NOTHING_JUDGED: "warn", NOT_RUN: "warn",
                 NO_SUMMARY: "fail"}


@dataclass(frozen=True)
class ExplorationView:
    """One exploration as the report shows it."""

    folder: Path
    exploration: str
    outcome: str
    detail: str  # one sentence: what was found, or why nothing was
    stack: str = ""
    seed: int | None = None
    budget_s: float | None = None
    search_s: float | None = None
    guided: bool | None = None
    examples: int = 0
    drills: int = 0
    coverage: str = ""  # "9 of 450 single steps; 4 of 12 kind x target x hold" or ""
    never_drawn: int = 0
    schedule: str = ""  # the finding's schedule, one line
    reproduced: str = ""  # "2 of 3 run(s)"
    note: str = ""  # the rule the finding was accepted by
    minimal_file: str = ""  # the replayable scenario's path, as written
    minimal_text: str = ""  # its text, attached (redacted)
    left_out: list[str] = field(default_factory=list)
    pace: str = ""  # "1.2 examples/min; pacing held in 17 of 18 drill(s)", "" for an older summary

    @property
    def cls(self) -> str:
        return OUTCOME_CLASS.get(self.outcome, "warn")

    @property
    def is_finding(self) -> bool:
        return self.outcome == FOUND


def is_exploration_dir(path: Path) -> bool:
    return path.is_dir() and path.name.startswith(PREFIX) and not (path / "journal.json").is_file()


def find_exploration_dirs(paths: Iterable[Path]) -> list[Path]:
    """Each path an exploration folder, or a reports directory holding some directly (in name order: by time)."""
    found: list[Path] = []
    for path in paths:
        if is_exploration_dir(path):
            found.append(path)
        elif path.is_dir():
            found += sorted(p for p in path.iterdir() if is_exploration_dir(p))
    unique: dict[Path, Path] = {}
    for p in found:
        unique.setdefault(p.resolve(), p)
    return list(unique.values())


def load_exploration(folder: Path, secrets: Sequence[str] | None = None) -> ExplorationView:
    try:
        data = json.loads((folder / SUMMARY).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        why = "it has none" if isinstance(exc, FileNotFoundError) else f"it cannot be read ({exc})"
        return ExplorationView(folder, _id_from_name(folder), NO_SUMMARY,
                               f"no summary.json: {why}; the exploration was stopped before it could write it "
                               f"(killed?), so what it found or covered is unknown")
    if not isinstance(data, dict):
        return ExplorationView(folder, _id_from_name(folder), NO_SUMMARY, "summary.json is not an object")
    data = redact(data, secrets)
    return view_of(folder, data, secrets)


def view_of(folder: Path, data: dict[str, Any], secrets: Sequence[str] | None = None) -> ExplorationView:
    """The report's view of one summary.json (already redacted)."""
    examples = data.get("examples") or []
    minimal = data.get("minimal") or None
    outcome, detail = _outcome(data, examples, minimal)
    reproduced = minimal.get("reproduced") if minimal else None
    rate = f"{reproduced[0]} of {reproduced[1]} run(s)" if isinstance(reproduced, list) and len(reproduced) == 2 else ""
    minimal_file = str(minimal.get("file") or "") if minimal else ""
    return ExplorationView(
        folder=folder, exploration=str(data.get("exploration") or _id_from_name(folder)), outcome=outcome,
        detail=detail, stack=str(data.get("stack") or ""), seed=data.get("seed"), budget_s=data.get("budget_s"),
        search_s=data.get("search_s"), guided=data.get("guided"), examples=len(examples),
        drills=int(data.get("runs") or 0), coverage=_coverage_text(data.get("coverage")),
        never_drawn=len((data.get("coverage") or {}).get("never_drawn") or []),
        schedule="; ".join(_step_text(s) for s in (minimal.get("schedule") or [])) if minimal else "",
        reproduced=rate, note=str(minimal.get("note") or "") if minimal else "", minimal_file=minimal_file,
        minimal_text=_minimal_text(folder, minimal_file, secrets), left_out=list(data.get("left_out") or []),
        pace=_pace_text(data))


def _outcome(data: dict[str, Any], examples: list[Any], minimal: dict[str, Any] | None) -> tuple[str, str]:
    stopped = f" (stopped early: {data['stopped']})" if data.get("stopped") else ""
    if data.get("not_run"):
        return NOT_RUN, str(data["not_run"])
    if minimal and not str(minimal.get("note") or "").startswith("Flaky"):
        sought = ", ".join(data.get("sought") or []) or "an invariant"
        return FOUND, f"{sought} broken{stopped}"
    if minimal:
        return FLAKY, f"a liveness invariant failed in fewer than most of a schedule's runs{stopped}"
    if not any(any(r.get("status") in ("passed", "failed") for r in e.get("runs") or []) for e in examples):
        return NOTHING_JUDGED, f"no drill was judged{stopped}: no failure found means nothing here"
    return NOTHING_FOUND, f"no invariant failed in {len(examples)} schedule(s){stopped}; covered: " + (
        _coverage_text(data.get("coverage")) or "not recorded")


def _pace_text(data: dict[str, Any]) -> str:
    """How fast the search judged examples and whether the drills' clients kept their rate."""
    parts = []
    rate = data.get("examples_per_minute")
    if isinstance(rate, int | float):
        parts.append(f"{rate:.1f} examples/min")
    paced = data.get("pacing")
    if isinstance(paced, dict) and paced.get("drills"):
        parts.append(f"pacing held in {paced.get('held', 0)} of {paced['drills']} drill(s)"
                     + (f", NOT held in {paced['not_held']}" if paced.get("not_held") else ""))
    return "; ".join(parts)


def _coverage_text(coverage: Any) -> str:
    if not isinstance(coverage, dict):
        return ""
    parts = []
    steps, cells = coverage.get("single_steps") or {}, coverage.get("kind_target_hold") or {}
    if steps.get("of"):
        parts.append(f"{steps.get('tried', 0)} of {steps['of']} single steps")
    if cells.get("of"):
        parts.append(f"{cells.get('tried', 0)} of {cells['of']} kind x target x hold buckets")
    return "; ".join(parts)


def _step_text(step: Any) -> str:
    """A step as `drill explore` prints it: `pause postgres.leader 12s (through the next)`."""
    if not isinstance(step, dict):
        return str(step)
    extra = "".join(f" {k}={v}" for k, v in step.items() if k not in ("fault", "target", "hold", "overlaps_next"))
    return (f"{step.get('fault', '?')} {step.get('target', '?')}{extra} {step.get('hold', '?')}"
            + (" (through the next)" if step.get("overlaps_next") else ""))


def _minimal_text(folder: Path, name: str, secrets: Sequence[str] | None) -> str:
    """The replayable scenario's text; the file is looked for in the folder when its recorded path moved."""
    if not name:
        return ""
    for path in (Path(name), folder / Path(name).name):
        try:
            return redact_text(path.read_text(encoding="utf-8"), secret_values() if secrets is None else secrets)
        except OSError:
            continue
    return ""


def _id_from_name(folder: Path) -> str:
    # explore-<YYYYmmddTHHMMSS>-<id>-<hex>
    parts = folder.name.split("-")
    return "-".join(parts[2:-1]) if len(parts) > 3 else folder.name
