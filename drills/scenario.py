"""Scenario files: YAML -> typed, frozen `Scenario`, every problem located (file:line:col field).

    load_scenario(path) -> Scenario            raises ScenarioError listing every problem
    validate_files(paths) -> list[Problem]     what `drill validate` prints
    scenario_json_schema() -> dict             what `drill schema` prints

The YAML is read with ruamel's round-trip loader, which keeps the line and column of every key
and value, within bounds of size, nesting and alias expansion (`drills.scenario_yaml`); pydantic
validates plain data and reports each error with a path (`steps[0].hold`); the path is walked
back through the YAML tree to the position to show (for an unknown key, with the closest valid
one). Validation collects every problem of a file before anything starts,
together with cross-field checks the schema cannot express (an expectation about a signal the
workload does not drive, a resync bound longer than the recovery wait). A user never sees a
traceback for a bad file.

The models live in `drills.scenario_schema` and are re-exported here.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from drills.errors import ScenarioError
from drills.faults.step import StepBase
from drills.scenario_schema import (
    CHECKERS,
    COMPONENTS,
    EXPECTATION_MODELS,
    FAULT_KINDS,
    SAME_TARGET,
    STEP_MODELS,
    Availability,
    BackupIntegrity,
    BackupSpec,
    Expectation,
    LostWrites,
    QueueLoss,
    Recovery,
    Resync,
    Rpo,
    Scenario,
    Sessions,
    SplitBrain,
    StackSpec,
    SteadyState,
    Step,
)
from drills.scenario_types import parse_duration
from drills.scenario_types import shorten as _shorten
from drills.workload.registry import KINDS, SIGNALS
from drills.workload.signal import SignalSpec

__all__ = [
    "CHECKERS", "COMPONENTS", "FAULT_KINDS", "SIGNALS", "Availability", "BackupIntegrity", "BackupSpec", "Expectation",
    "LostWrites", "Problem", "QueueLoss", "Recovery", "Resync", "Rpo", "Scenario", "Sessions", "SignalSpec",
    "SplitBrain", "StackSpec", "SteadyState", "Step", "StepBase",
    "check_file", "expand_paths", "load_scenario", "parse_duration", "scenario_json_schema", "semantic_problems",
    "validate_files",
]

Loc = tuple[int | str, ...]


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int  # 1-based
    column: int  # 1-based
    field: str  # the path in the file: steps[0].hold ("" for the file as a whole)
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


# ---- from pydantic's error locations to the YAML tree ------------------------------------------


def _unwrap(tp: Any) -> Any:
    """Strip Annotated[...] and `| None`."""
    while True:
        if typing.get_origin(tp) is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif _is_union(tp):
            rest = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(rest) != 1:
                return tp
            tp = rest[0]
        else:
            return tp


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def _variant(tp: Any, tag: object) -> type[BaseModel] | None:
    """The member of a tagged union whose `fault`/`checker` is `tag`."""
    for member in map(_unwrap, typing.get_args(tp)):
        if isinstance(member, type) and issubclass(member, BaseModel):
            for name in ("fault", "checker"):
                info = member.model_fields.get(name)
                if info is not None and tag in typing.get_args(info.annotation):
                    return member
    return None


def _child(tp: Any, part: int | str) -> Any:
    if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str):
        for name, info in tp.model_fields.items():
            if part in (name, info.alias):
                return info.annotation
        return None
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (tuple, list) and isinstance(part, int) and args:
        return args[0]
    if origin is dict and len(args) == 2:
        if _unwrap(args[1]) is SignalSpec and isinstance(part, str) and part in KINDS:
            return KINDS[part].model  # a `workload:` entry is read by its own kind's model
        return args[1]
    return None


def _walk(loc: Loc) -> tuple[Loc, Any]:
    """pydantic's loc -> (the path as the file spells it, the type found there).

    pydantic puts a tagged union's tag (`kill`, `availability`) and `[key]` (an invalid dict key)
    into loc; neither is a key of the file."""
    tp: Any = Scenario
    clean: list[int | str] = []
    for part in loc:
        tp = _unwrap(tp)
        if part == "[key]":
            continue
        if _is_union(tp):
            variant = _variant(tp, part)
            if variant is not None:
                tp = variant
                continue
        clean.append(part)
        tp = _child(tp, part)
    return tuple(clean), _unwrap(tp)


def _field_names(tp: Any) -> list[str]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return sorted(info.alias or name for name, info in tp.model_fields.items())
    return []


def _field_path(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def _locate(root: Any, loc: Loc, *, at_key: bool = False) -> tuple[int, int]:
    """(line, col), 0-based, of the deepest node of `loc` that exists in the YAML tree: a scalar
    where its value stands; a mapping or list (or, with `at_key`, anything) at its key."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    node = root
    pos = (0, 0)
    for i, part in enumerate(loc):
        if isinstance(node, CommentedMap) and part in node:
            value = node[part]
            container = isinstance(value, CommentedMap | CommentedSeq)
            last_key = at_key and i == len(loc) - 1
            pos = _key_position(node, part, of_value=not (container or last_key)) or pos
            node = value
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            found = (node.lc.data or {}).get(part)
            pos = (found[0], found[1]) if found else pos
            node = node[part]
        else:
            break
    return pos


def _key_position(node: Any, key: int | str, *, of_value: bool) -> tuple[int, int] | None:
    """Where a key of a mapping (or its value) is written; a key that came in through a merge key
    (`<<: *step`) is written in the merged mapping, so that is where it is shown."""
    found = (node.lc.data or {}).get(key)
    if found is not None:
        return (found[2], found[3]) if of_value else (found[0], found[1])
    for entry in getattr(node, "merge", ()):
        merged = entry[1] if isinstance(entry, tuple) else entry  # older ruamel: (position, mapping)
        if isinstance(merged, dict) and key in merged:
            return _key_position(merged, key, of_value=of_value)
    return None


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _problem(path: str, root: Any, err: Any) -> Problem:
    raw: Loc = tuple(err["loc"])
    kind: str = err["type"]
    ctx = err.get("ctx") or {}
    loc, _ = _walk(raw)
    at_key = False
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        _, container = _walk(raw[:-1])
        names = _field_names(container)
        if container in (*STEP_MODELS, *EXPECTATION_MODELS):
            message = _misplaced_field(key, container) or f"unknown field {_shown(key)}" + (_suggest(key, names) or (
                f" (fields: {', '.join(names)})" if names else ""))
        else:
            message = _misplaced_signal_field(key, loc) or f"unknown field {_shown(key)}" + (
                _suggest(key, names) or (f" (fields: {', '.join(names)})" if names else ""))
        at_key = True
    elif raw and raw[-1] == "[key]":  # an invalid key of `workload:`
        key = str(loc[-1]) if loc else "?"
        message = f"unknown signal {_shown(key)}" + (_suggest(key, SIGNALS) or f" (signals: {', '.join(SIGNALS)})")
        at_key = True
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        name = str(ctx.get("discriminator", "")).strip("'\"") or "kind"
        loc = (*loc, name)
        expected = FAULT_KINDS if name == "fault" else CHECKERS
        if kind == "union_tag_not_found":
            message = f"required field is missing (one of {', '.join(expected)})"
            line, col = _locate(root, loc[:-1])
            return Problem(path, line + 1, col + 1, _field_path(loc), message)
        tag = str(ctx.get("tag", "?"))
        message = f"unknown {name} {_shown(tag)}" + (_suggest(tag, expected) or f" (one of {', '.join(expected)})")
    elif kind == "missing":
        line, col = _locate(root, loc[:-1])  # point at the mapping that lacks it
        return Problem(path, line + 1, col + 1, _field_path(loc), "required field is missing")
    else:
        message = _plain_message(err, loc)
    line, col = _locate(root, loc, at_key=at_key)
    return Problem(path, line + 1, col + 1, _field_path(loc), message)


def _misplaced_field(key: str, container: Any) -> str | None:
    """For a field of another fault kind or checker, or of the other section (`hold:` in an
    expectation), say where it belongs; None when no step or expectation has it."""
    in_step = container in STEP_MODELS
    tag, same, other = ("fault", STEP_MODELS, EXPECTATION_MODELS) if in_step else ("checker", EXPECTATION_MODELS,
                                                                                   STEP_MODELS)
    owners = [m for m in same if key in _field_names(m)]
    if owners:
        kinds = ", ".join(typing.get_args(m.model_fields[tag].annotation)[0] for m in owners)
        return f"unknown field {_shown(key)} for this {tag}; it belongs to {tag}: {kinds}"
    if any(key in _field_names(m) for m in other):
        there, here = ("expectations", "steps") if in_step else ("steps (fault steps)", "expectations")
        return f"unknown field {_shown(key)} for this {tag}: it is a field of {there}, not of {here}"
    return None


def _misplaced_signal_field(key: str, loc: Loc) -> str | None:
    """For a field of another signal's entry under `workload:`, say which signals have it."""
    if len(loc) != 3 or loc[0] != "workload":
        return None
    owners = [name for name, kind in KINDS.items() if key in _field_names(kind.model)]
    return f"unknown field {_shown(key)} for {loc[1]}; it belongs to signal: {', '.join(owners)}" if owners else None


def _shown(value: object) -> str:
    """repr() of a value for a message, cut short: a 200 KB key is not echoed whole."""
    return repr(_shorten(value)) if isinstance(value, str) else _shorten(repr(value))


def _plain_message(err: Any, loc: Loc) -> str:
    kind: str = err["type"]
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if kind == "literal_error":
        msg = msg.replace("Input should be", "must be one of")
    elif kind == "string_pattern_mismatch" and loc == ("id",):
        msg = "must be kebab-case (a-z, 0-9 and -), e.g. postgres-leader-kill; it does not match the pattern"
    elif kind in ("model_type", "dict_type"):
        msg = "must be a mapping (key: value lines)"
    elif kind in ("tuple_type", "list_type"):
        msg = "must be a list (- item lines, or [a, b])"
    else:
        msg = msg.replace("Input should be", "must be").split(", unable to parse")[0]
    got = err.get("input")
    if isinstance(got, str | int | float) and not isinstance(got, bool) and _shown(got) not in msg:
        msg += f" (got {_shown(got)})"
    return msg


def _problems_from(path: str, root: Any, exc: ValidationError) -> list[Problem]:
    errors = exc.errors()
    # "at least 1 item" of a list whose items were themselves invalid only echoes them.
    inner = {tuple(e["loc"])[:1] for e in errors if len(e["loc"]) > 1}
    found = {_problem(path, root, e) for e in errors
             if not (e["type"] == "too_short" and tuple(e["loc"])[:1] in inner)}
    return sorted(found)


# ---- reading the file ---------------------------------------------------------------------------


def _load_yaml(path: Path) -> tuple[Any, list[Problem]]:
    from drills.scenario_yaml import YamlProblem, load_yaml

    try:
        return load_yaml(path), []
    except YamlProblem as exc:
        return None, [Problem(str(path), exc.line, exc.column, _field_path(exc.loc), exc.message)]


def _plain(node: Any) -> Any:
    """ruamel's round-trip types -> plain dicts, lists, str, int, float, bool (pydantic's input)."""
    if isinstance(node, dict):
        return {(k if isinstance(k, str | int) else str(k)): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    for plain in (str, int, float):
        if isinstance(node, plain):
            return plain(node)
    return node


def check_file(path: Path) -> tuple[Scenario | None, list[Problem]]:
    """The scenario of one file and every problem found in it (the scenario only if none)."""
    scenario, problems, _ = _check(path)
    return scenario, problems


def _check(path: Path) -> tuple[Scenario | None, list[Problem], Any]:
    root, problems = _load_yaml(path)
    if problems:
        return None, problems, root
    if not isinstance(root, dict):
        return None, [Problem(str(path), 1, 1, "", "a scenario file must be a YAML mapping (id, title, ...)")], root
    data = _plain(root)
    scenario: Scenario | None = None
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = _problems_from(str(path), root, exc)
    problems = sorted({*problems, *semantic_problems(str(path), root, data)})
    return (None if problems else scenario), problems, root


# ---- what the schema cannot say -------------------------------------------------------------------


def _seconds(value: Any, default: float) -> float | None:
    if value is None:
        return default
    try:
        return parse_duration(value)
    except ValueError:
        return None  # reported by the schema


def _number(value: Any, default: float) -> float | None:
    if value is None:
        return default
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def semantic_problems(path: str, root: Any, data: dict[str, Any]) -> list[Problem]:
    """Cross-field checks, each one a mistake that would otherwise only show as a NOT MEASURED
    verdict after a whole drill. They read the plain data, not the model, so they run (and are
    reported together with the schema's problems) even when other parts of the file are invalid;
    a check whose inputs are themselves invalid is skipped, as the schema reports those."""
    problems: list[Problem] = []

    def add(loc: Loc, message: str, *, at_key: bool = False) -> None:
        line, col = _locate(root, loc, at_key=at_key)
        problems.append(Problem(path, line + 1, col + 1, _field_path(loc), message))

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
    recovery = data.get("recovery")
    timeout = _seconds(recovery.get("timeout") if isinstance(recovery, dict) else None, 120.0)
    steady, after = _seconds(data.get("steady"), 5.0), _seconds(data.get("after"), 5.0)
    expectations = data.get("expectations")
    for i, exp in enumerate(expectations if isinstance(expectations, list) else []):
        if not isinstance(exp, dict):
            continue
        checker, signal = exp.get("checker"), exp.get("signal")
        if checker == "availability" and all(exp.get(k) is None for k in Availability.BOUNDS):
            add(("expectations", i), f"give at least one bound: {', '.join(Availability.BOUNDS)}")
        if checker in ("availability", "lost-writes") and signal in SIGNALS and workload is not None \
                and signal not in workload:
            driven = ", ".join(_shorten(str(w)) for w in workload)
            add(("expectations", i, "signal"), f"{signal!r} is not in the workload ({driven})")
        elif checker == "queue" and workload is not None and "rabbitmq.publish" not in workload:
            add(("expectations", i), "the queue checker needs `rabbitmq.publish` in the workload")
        elif checker == "resync":
            if exp.get("component") is None and data.get("component") not in COMPONENTS:
                add(("expectations", i), f"say which component must resync: `component:` here or at the top "
                                         f"({', '.join(COMPONENTS)})")
            bound = _seconds(exp.get("max_resync"), 0.0)
            if bound is not None and timeout is not None and bound > timeout:
                add(("expectations", i, "max_resync"),
                    f"{bound:g} s is longer than recovery.timeout ({timeout:g} s): the drill would stop watching "
                    f"before the bound could be shown to hold or break")
        elif checker == "steady-state" and workload is not None:
            _steady_problems(add, i, exp, workload, steady=steady, after=after)
    _backup_problems(add, data, workload)
    return problems


def _backup_problems(add: Any, data: dict[str, Any], workload: dict[str, Any] | None) -> None:
    """restore-backup, rpo and backup-integrity need a `backup:` section that fits them."""
    backup = data.get("backup")
    backup = backup if isinstance(backup, dict) else None
    component = backup.get("component") if backup else None
    method = (backup.get("method") or "dump") if backup else None
    if backup and method == "snapshot" and component in ("rabbitmq", "mongo"):
        add(("backup", "method"), f"{component} has no snapshot backup here; use method: dump")
    steps = data.get("steps")
    for i, step in enumerate(steps if isinstance(steps, list) else []):
        if not isinstance(step, dict) or step.get("fault") != "restore-backup":
            continue
        if backup is None:
            add(("steps", i), "restore-backup needs a `backup:` section (what to back up, how, how often)")
            continue
        target = str(step.get("target", "")).split(".")[0]
        if target and component and target != component:
            add(("steps", i, "target"), f"the backups are of {component}, not {target}")
        if (step.get("method") or "dump") != method:
            add(("steps", i, "method"), f"the backups are taken by {method}, so restore with method: {method}")
    expectations = data.get("expectations")
    for i, exp in enumerate(expectations if isinstance(expectations, list) else []):
        if not isinstance(exp, dict) or exp.get("checker") not in ("rpo", "backup-integrity"):
            continue
        if backup is None:
            add(("expectations", i), f"the {exp['checker']} checker needs a `backup:` section")
        if exp["checker"] == "rpo":
            signal = exp.get("signal")
            if signal in SIGNALS and workload is not None and signal not in workload:
                add(("expectations", i, "signal"), f"{signal!r} is not in the workload")
            elif component and isinstance(signal, str) and not signal.startswith(f"{component}."):
                add(("expectations", i, "signal"), f"the backups are of {component}; {signal} is not written there")


def _steady_problems(add: Any, i: int, exp: dict[str, Any], workload: dict[str, Any], *, steady: float | None,
                     after: float | None) -> None:
    chosen = exp.get("signals")
    chosen = chosen if isinstance(chosen, list) else []
    for k, sig in enumerate(chosen):
        if sig in SIGNALS and sig not in workload:
            add(("expectations", i, "signals", k), f"{sig!r} is not in the workload")
    min_ops = _number(exp.get("min_ops"), 5)
    if min_ops is None or steady is None or after is None:
        return
    shortest = min(steady, after)
    for sig, spec in workload.items():
        rate = _number(spec.get("rate") if isinstance(spec, dict) else None, 50.0)
        if (sig in chosen or not chosen) and rate is not None and rate * shortest < min_ops:
            add(("expectations", i, "min_ops"),
                f"{sig} at {rate:g} ops/s gives ~{rate * shortest:.0f} ops in the {shortest:g} s steady window, "
                f"fewer than min_ops {min_ops:g}: lengthen `steady`/`after`")


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
                line, col = _locate(root, ("id",))
                problems.append(Problem(str(path), line + 1, col + 1, "id",
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
    schema = Scenario.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Drills scenario"
    return schema
