"""A drawn schedule as an ordinary scenario: the exploration's workload, phases and invariants,
and the schedule's steps, one after another, each healed before the next, then the space's fixed
steps (`fault_space.then`), if any.

    data = scenario_of(exploration, steps)            the data a scenario file holds
    text = scenario_yaml(data, header_lines(...))     that file, headed by where it came from

What `drill explore` runs for each example is exactly such a scenario, and what it writes for a
minimal failing schedule is its file: `drill run FILE` replays it, `drill validate FILE` checks it.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from drills.explore.strategy import DrawnStep
from drills.files.exploration import Exploration

# Scenarios drawn by an exploration are a suite of their own: `drill run --suite policy` never
# picks up a file `drill explore` wrote into scenarios/.
SUITE = "explore"
# What an exploration carries over into each scenario, as the file wrote it.
_CARRIED = ("component", "requires", "workload", "backup", "steady", "recovery", "after")


def schedule_digest(steps: Sequence[DrawnStep]) -> str:
    """Eight hex digits naming the schedule: the same steps always give the same scenario id."""
    text = json.dumps([step.as_data() for step in steps], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def scenario_of(exploration: Exploration, steps: Sequence[DrawnStep]) -> dict[str, Any]:
    """The scenario that runs `steps` under the exploration's workload and judges its invariants."""
    given = exploration.model_dump(mode="json", by_alias=True, exclude_unset=True)
    summary = "; ".join(map(str, steps)) or "no fault"
    data: dict[str, Any] = {
        "id": f"{exploration.id}-{schedule_digest(steps)}",
        "title": f"{exploration.title}: {summary}",
        "policy": exploration.policy or (f"Whatever faults of exploration {exploration.id} happen, its "
                                         f"invariants hold."),
        "suites": [SUITE],
    }
    data.update({key: given[key] for key in _CARRIED if key in given})
    # The fixed steps after the drawn ones, as the file wrote them (`fault_space.then`).
    fixed = [{k: f"{v:g}s" if k == "hold" and isinstance(v, int | float) else v for k, v in step.items()}
             for step in given["fault_space"].get("then", [])]
    data["steps"] = [step.as_data() for step in steps] + fixed
    data["expectations"] = given["invariants"]
    order = ["id", "title", "policy", "component", "suites", "requires", "workload", "backup", "steady", "steps",
             "recovery", "after", "expectations"]
    return {key: data[key] for key in order if key in data}


def header_lines(exploration_file: Path | str, exploration: Exploration, *, seed: int | None = None,
                 reproduced: tuple[int, int] | None = None, note: str = "") -> list[str]:
    """Where a written scenario came from and how to replay it: the exploration, the seed, and how
    often the schedule failed when re-run (a real system is not deterministic)."""
    lines = [f"Drawn by `drill explore {exploration_file}` (exploration {exploration.id})"
             + (f", seed {seed}" if seed is not None else "") + "."]
    if reproduced is not None:
        failed, runs = reproduced
        lines.append(f"Re-run {runs} time(s) before it was accepted: an invariant failed in {failed} of {runs}.")
    if note:
        lines.append(note)
    lines.append("Replay: drill run THIS_FILE (with the --stack and -f the exploration ran on).")
    return lines


def scenario_yaml(data: dict[str, Any], header: Sequence[str] = ()) -> str:
    """The scenario as a YAML file, each header line a comment at its top."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.width = 100
    yaml.default_flow_style = None
    out = io.StringIO()
    yaml.dump(data, out)
    return "".join(f"# {line}\n" for line in header) + out.getvalue()
