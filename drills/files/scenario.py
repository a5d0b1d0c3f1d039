"""Scenario files: YAML -> typed, frozen `Scenario`, every problem located (file:line:col field).

    load_scenario(path) -> Scenario            raises ScenarioError listing every problem
    validate_files(paths) -> list[Problem]     what `drill validate` prints
    scenario_json_schema() -> dict             what `drill schema` prints

The YAML is read with ruamel's round-trip loader, which keeps the line and column of every key
and value, within bounds of size, nesting and alias expansion (`drills.files.scenario_yaml`); pydantic
validates plain data and reports each error with a path (`steps[0].hold`); the path is walked
back through the YAML tree to the position to show (`drills.core.yaml_locate`, which knows nothing of
scenarios). This module words those errors for a scenario file (for an unknown key, the closest
valid one, or the fault kind, checker or signal it belongs to), and adds the cross-field checks
the schema cannot express (an expectation about a signal the workload does not drive, a resync
bound longer than the recovery wait). Validation collects every problem of a file before
anything starts. A user never sees a traceback for a bad file.

The models live in `drills.files.scenario_schema` (each expectation's in its checker's module,
`drills.checkers`) and are re-exported here.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from drills.checkers.availability import Availability
from drills.checkers.backup_integrity import BackupIntegrity
from drills.checkers.lost_writes import LostWrites
from drills.checkers.protocol import FileView
from drills.checkers.queue import QueueLoss
from drills.checkers.registry import CHECKERS as CHECKER_REGISTRY
from drills.checkers.resync import Resync
from drills.checkers.rpo import Rpo
from drills.checkers.sessions import Sessions
from drills.checkers.split_brain import SplitBrain
from drills.checkers.steady_state import SteadyState
from drills.components import registry
from drills.core.errors import ScenarioError
from drills.core.yaml_locate import (
    Loc,
    Problem,
    field_names,
    field_path,
    locate,
    plain_message,
    problem_at,
    suggest,
    to_plain,
    walk,
)
from drills.faults.registry import FAULTS as FAULT_REGISTRY
from drills.faults.step import StepBase
from drills.files.scenario_schema import (
    CHECKERS,
    EXPECTATION_MODELS,
    FAULT_KINDS,
    SAME_TARGET,
    STEP_MODELS,
    BackupSpec,
    Expectation,
    Recovery,
    Scenario,
    Step,
)
from drills.spec.types import duration_or, parse_duration
from drills.spec.types import shorten as _shorten
from drills.workload.registry import KINDS, SIGNALS
from drills.workload.signal import SignalSpec

__all__ = [
    "CHECKERS", "FAULT_KINDS", "SIGNALS", "Availability", "BackupIntegrity", "BackupSpec", "Expectation",
    "LostWrites", "Problem", "QueueLoss", "Recovery", "Resync", "Rpo", "Scenario", "Sessions", "SignalSpec",
    "SplitBrain", "SteadyState", "Step", "StepBase",
    "check_file", "expand_paths", "load_scenario", "parse_duration", "scenario_json_schema", "schema_problems",
    "semantic_problems",
    "validate_files",
]

# The tagged unions of the schema: a step is told by its `fault`, an expectation by its `checker`.
TAGS = ("fault", "checker")


def _walk(loc: Loc, model: type[BaseModel] = Scenario) -> tuple[Loc, Any]:
    return walk(model, loc, TAGS)


# ---- pydantic's errors, in the words of a scenario file -------------------------------------------


def _problem(path: str, root: Any, err: Any, model: type[BaseModel] = Scenario) -> Problem:
    raw: Loc = tuple(err["loc"])
    kind: str = err["type"]
    ctx = err.get("ctx") or {}
    loc, _ = _walk(raw, model)
    at_key = False
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        _, container = _walk(raw[:-1], model)
        if len(loc) == 3 and loc[0] == "workload" and loc[1] in KINDS:
            container = KINDS[str(loc[1])].model  # an entry of `workload:` is read by its own kind's model
        names = field_names(container)
        if loc == ("stack",):
            message = ("a scenario does not choose its stack: it runs on whichever `drill run --stack PATH [-f "
                       "OVERRIDE]` names (default stacks/reference); remove `stack:`")
        elif container in (*STEP_MODELS, *EXPECTATION_MODELS):
            message = _misplaced_field(key, container) or f"unknown field {_shown(key)}" + (suggest(key, names) or (
                f" (fields: {', '.join(names)})" if names else ""))
        else:
            message = _misplaced_signal_field(key, loc) or f"unknown field {_shown(key)}" + (
                suggest(key, names) or (f" (fields: {', '.join(names)})" if names else ""))
        at_key = True
    elif raw and raw[-1] == "[key]":  # an invalid key of `workload:`
        key = str(loc[-1]) if loc else "?"
        message = f"unknown signal {_shown(key)}" + (suggest(key, SIGNALS) or f" (signals: {', '.join(SIGNALS)})")
        at_key = True
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        name = str(ctx.get("discriminator", "")).strip("'\"") or "kind"
        loc = (*loc, name)
        expected = FAULT_KINDS if name == "fault" else CHECKERS
        if kind == "union_tag_not_found":
            message = f"required field is missing (one of {', '.join(expected)})"
            line, col = locate(root, loc[:-1])
            return Problem(path, line + 1, col + 1, field_path(loc), message)
        tag = str(ctx.get("tag", "?"))
        message = f"unknown {name} {_shown(tag)}" + (suggest(tag, expected) or f" (one of {', '.join(expected)})")
    elif kind == "missing":
        line, col = locate(root, loc[:-1])  # point at the mapping that lacks it
        return Problem(path, line + 1, col + 1, field_path(loc), "required field is missing")
    else:
        message = _plain_message(err, loc)
    return problem_at(path, root, loc, message, at_key=at_key)


def _misplaced_field(key: str, container: Any) -> str | None:
    """For a field of another fault kind or checker, or of the other section (`hold:` in an
    expectation), say where it belongs; None when no step or expectation has it."""
    in_step = container in STEP_MODELS
    tag, same, other = ("fault", STEP_MODELS, EXPECTATION_MODELS) if in_step else ("checker", EXPECTATION_MODELS,
                                                                                   STEP_MODELS)
    owners = [m for m in same if key in field_names(m)]
    if owners:
        kinds = ", ".join(typing.get_args(m.model_fields[tag].annotation)[0] for m in owners)
        return f"unknown field {_shown(key)} for this {tag}; it belongs to {tag}: {kinds}"
    if any(key in field_names(m) for m in other):
        there, here = ("expectations", "steps") if in_step else ("steps (fault steps)", "expectations")
        return f"unknown field {_shown(key)} for this {tag}: it is a field of {there}, not of {here}"
    return None


def _misplaced_signal_field(key: str, loc: Loc) -> str | None:
    """For a field of another signal's entry under `workload:`, say which signals have it."""
    if len(loc) != 3 or loc[0] != "workload":
        return None
    owners = [name for name, kind in KINDS.items() if key in field_names(kind.model)]
    return f"unknown field {_shown(key)} for {loc[1]}; it belongs to signal: {', '.join(owners)}" if owners else None


def _shown(value: object) -> str:
    """repr() of a value for a message, cut short: a 200 KB key is not echoed whole."""
    return repr(_shorten(value)) if isinstance(value, str) else _shorten(repr(value))


def _plain_message(err: Any, loc: Loc) -> str:
    example = registry.role_examples()[0].replace(".", "-") + "-kill"  # an id as the shipped scenarios spell theirs
    kebab = f"must be kebab-case (a-z, 0-9 and -), e.g. {example}; it does not match the pattern"
    return plain_message(err, _shown, pattern=kebab if loc == ("id",) else None)


def schema_problems(path: str, root: Any, exc: ValidationError, model: type[BaseModel] = Scenario) -> list[Problem]:
    """pydantic's errors of a file read as `model` (a scenario, or a file made of its parts: an
    exploration's workload and invariants), each located and worded as for a scenario."""
    errors = exc.errors()
    # "at least 1 item" of a list whose items were themselves invalid only echoes them.
    inner = {tuple(e["loc"])[:1] for e in errors if len(e["loc"]) > 1}
    found = {_problem(path, root, e, model) for e in errors
             if not (e["type"] == "too_short" and tuple(e["loc"])[:1] in inner)}
    return sorted(found)


# ---- reading the file ---------------------------------------------------------------------------


def check_file(path: Path) -> tuple[Scenario | None, list[Problem]]:
    """The scenario of one file and every problem found in it (the scenario only if none)."""
    scenario, problems, _ = _check(path)
    return scenario, problems


def _check(path: Path) -> tuple[Scenario | None, list[Problem], Any]:
    from drills.files.scenario_yaml import load_mapping

    root, problems = load_mapping(path, "a scenario file", "id, title, ...")
    if problems:
        return None, problems, root
    data = to_plain(root)
    scenario: Scenario | None = None
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = schema_problems(str(path), root, exc)
    problems = sorted({*problems, *semantic_problems(str(path), root, data)})
    return (None if problems else scenario), problems, root


# ---- what the schema cannot say -------------------------------------------------------------------


def semantic_problems(path: str, root: Any, data: dict[str, Any], *,
                      expectations_key: str = "expectations") -> list[Problem]:
    """Cross-field checks, each one a mistake that would otherwise only show as a NOT MEASURED
    verdict after a whole drill. They read the plain data, not the model, so they run (and are
    reported together with the schema's problems) even when other parts of the file are invalid;
    a check whose inputs are themselves invalid is skipped, as the schema reports those.
    `expectations_key`: where the file holds its expectations (an exploration's `invariants`)."""
    problems: list[Problem] = []

    def add(loc: Loc, message: str, *, at_key: bool = False) -> None:
        problems.append(problem_at(path, root, loc, message, at_key=at_key))

    workload = data.get("workload")
    workload = workload if isinstance(workload, dict) else None
    for name in workload or {}:
        needed = KINDS[name].requires if isinstance(name, str) and name in KINDS else ()
        for other in needed:
            if other not in (workload or {}):
                add(("workload", name), f"{name} needs {other} beside it: add `{other}:` under `workload:`",
                    at_key=True)
    steps = data.get("steps")
    if isinstance(steps, list) and steps and isinstance(steps[0], dict) and steps[0].get("target") == SAME_TARGET:
        add(("steps", 0, "target"), f"`{SAME_TARGET}` names the node of the previous step; the first step has none")
    listed = steps if isinstance(steps, list) else []
    for i, step in enumerate(listed):
        if isinstance(step, dict) and step.get("overlaps_next") is True:
            if i == len(listed) - 1:
                add(("steps", i, "overlaps_next"), "the last step has no next step to overlap: remove overlaps_next")
            elif step.get("heal") is False:
                add(("steps", i, "overlaps_next"), "a step with heal: false stays applied to the end of the drill "
                                                   "already; overlaps_next is for a step that heals")
    recovery, backup = data.get("recovery"), data.get("backup")
    view = FileView(data, workload, backup if isinstance(backup, dict) else None,
                    steady=duration_or(data.get("steady"), 5.0), after=duration_or(data.get("after"), 5.0),
                    recovery_timeout=duration_or(recovery.get("timeout") if isinstance(recovery, dict) else None,
                                                 120.0))
    expectations = data.get(expectations_key)
    for i, exp in enumerate(expectations if isinstance(expectations, list) else []):
        name = exp.get("checker") if isinstance(exp, dict) else None
        checker = CHECKER_REGISTRY.get(name) if isinstance(name, str) else None
        for loc, message in checker.problems(exp, view) if checker is not None else ():
            add((expectations_key, i, *loc), message)
        if checker is not None and (missing := _unsampled(checker.samples)):
            add((expectations_key, i, "checker"), f"the {name} checker needs {', '.join(missing)} samples, which no "
                                                  "sampler of drills.sampling takes (a bug of the checker or the "
                                                  "sampler: report it)")
    for i, step in enumerate(steps if isinstance(steps, list) else []):
        kind = step.get("fault") if isinstance(step, dict) else None
        fault = FAULT_REGISTRY.get(kind) if isinstance(kind, str) else None
        for loc, message in fault.problems(step, view) if fault is not None and fault.problems else ():
            add(("steps", i, *loc), message)
    _backup_problems(add, view.backup)
    return problems


def _unsampled(needs: frozenset[str]) -> list[str]:
    """What a checker needs sampled that no sampler takes (drills.sampling.registry, imported only
    when a checker needs samples: the samplers import the stack's clients)."""
    if not needs:
        return []
    from drills.sampling.registry import unknown

    return unknown(needs)


def _backup_problems(add: Any, backup: Mapping[str, Any] | None) -> None:
    """A `backup:` section asks for a backup this stack can take."""
    component = backup.get("component") if backup else None
    method = (backup.get("method") or "dump") if backup else None
    if backup and method == "snapshot" and component in registry.kinds_with("backups") \
            and method not in registry.scenario_methods(component):
        add(("backup", "method"), f"{component} has no snapshot backup here; use method: dump")


# ---- the public surface ---------------------------------------------------------------------------


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given; a directory stands for its *.yaml and *.yml files."""
    out: list[Path] = []
    for p in paths:
        out += sorted([*p.glob("*.yaml"), *p.glob("*.yml")]) if p.is_dir() else [p]
    return out


def validate_files(paths: Iterable[Path]) -> list[Problem]:
    """Every problem of every file (a directory stands for its *.yaml files), ids unique across them."""
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for path in expand_paths(paths):
        scenario, found, root = _check(path)
        problems += found
        if scenario is not None:
            if scenario.id in seen:
                problems.append(problem_at(str(path), root, ("id",),
                                           f"duplicate id {scenario.id!r} (also in {seen[scenario.id]})"))
            seen.setdefault(scenario.id, str(path))
    return problems


def load_scenario(path: Path) -> Scenario:
    scenario, problems = check_file(path)
    if problems or scenario is None:
        raise ScenarioError("\n".join(str(p) for p in problems) or f"{path}: invalid",
                            hint="fix the file; `drill schema` prints the format")
    return scenario


def scenario_json_schema() -> dict[str, Any]:
    from drills.files.scenario_yaml import json_schema_of

    return json_schema_of(Scenario, "Drills scenario")
