"""Exploration files: the invariants that must hold whatever happens, and the space of faults to
draw schedules from (`drill explore`); every problem located at file:line:col, like scenarios.

    load_exploration(path) -> Exploration              raises ScenarioError listing every problem
    check_exploration_file(path) -> (Exploration | None, [Problem])      what `drill validate` prints
    exploration_json_schema() -> dict                  what `drill schema --exploration` prints

An exploration is a scenario without steps: the same workload, backup schedule, steady phase,
recovery and after phase, and its expectations are `invariants:` (the checkers' own models, each
with its `why:`). In place of steps it has a `fault_space:`: which fault kinds (the fault registry)
on which roles (`drills.core.roles`), with which values of their own fields, held how long, in how many
steps. A schedule drawn from it (`drills.explore.strategy`) becomes an ordinary scenario
(`drills.explore.schedule`), so every check a scenario gets applies to it. This module checks the
space itself: every value a schedule may draw must make a valid step, so that a drawn schedule is
never refused halfway through an exploration.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeGuard

from pydantic import Field, ValidationError

from drills.checkers.protocol import FileView
from drills.components import registry
from drills.core.errors import ScenarioError, StackError
from drills.core.yaml_locate import Loc, Problem, field_names, problem_at, suggest, to_plain
from drills.faults.registry import FAULTS
from drills.files.scenario import schema_problems, semantic_problems
from drills.files.scenario_schema import (
    COMPONENT_EXAMPLES,
    FAULT_KINDS,
    REQUIRES,
    SAME_TARGET,
    BackupSpec,
    Expectation,
    Recovery,
    Step,
)
from drills.spec.types import Bool, Duration, Int, Model, Role, duration_or, parse_duration
from drills.workload.registry import WorkloadSection

__all__ = [
    "MAX_CHECKED_VALUES", "MAX_STEPS", "Combinations", "Exploration", "FaultChoice", "FaultSpace", "HoldRange",
    "StepCount", "check_combinations", "check_exploration_file", "exploration_json_schema", "is_exploration_data",
    "load_exploration", "looks_like_exploration_file",
]

# More steps than this is no longer a schedule a person can read back as a scenario, and a drill
# of 10 steps with holds of tens of seconds already lasts minutes per example.
MAX_STEPS = 10
# The fields of a step a schedule draws itself: not choices of `with:`.
DRAWN = ("fault", "target", "hold", "heal")
SPACE_KEY = "fault_space"
# The kinds' cross-field checks read combinations of a target and a value of each field until they
# have read this many values (a target with a `from` of 1,000 roles is 1,001): a fraction of a second.
# The example reads about 90; a space past it (a thousand targets by long `from` lists, which took
# the checks minutes) is checked in part, and its problems say so.
MAX_CHECKED_VALUES = 100_000

# The roles the descriptions and messages show, from the registry: the first kind with roles gives
# one node, a role of several and its whole group (postgres.leader, postgres.replica, postgres.*);
# the first kind with no roles of its own, a group cut as a whole beside it (a partition's `from`).
_KIND = registry.kinds_with("roles")[0]
_WORDS = registry.VOCABULARY[_KIND]
_ONE = f"{_KIND}.{min(_WORDS.single or _WORDS.selectors)}"
_SEVERAL = f"{_KIND}.{min(_WORDS.selectors - _WORDS.single or _WORDS.selectors)}"
_GROUP = f"{_KIND}.*"
_BESIDE = next((f"{kind}.*" for kind, words in registry.VOCABULARY.items() if not words.selectors), "clients")

if TYPE_CHECKING:
    FaultKind = str
else:
    FaultKind = Literal[FAULT_KINDS]


class HoldRange(Model):
    """How long a step holds its fault: whole seconds from `min` to `max`, drawn so that shrinking
    moves toward `min`."""

    min: Duration = Field(..., description="The shortest hold, in whole seconds (e.g. 1s).")
    max: Duration = Field(..., description="The longest hold, in whole seconds (e.g. 20s).")


class StepCount(Model):
    """How many steps a schedule has; shrinking drops steps toward `min`."""

    min: Int = Field(1, ge=1, description="The fewest steps of a schedule.")
    max: Int = Field(..., ge=1, le=MAX_STEPS, description=f"The most steps of a schedule (at most {MAX_STEPS}).")


class FaultChoice(Model):
    """One fault kind, the roles it may hit, and the values its own fields may take."""

    kind: FaultKind = Field(..., description="A fault kind (drill schema lists them: kill, partition, pause, ...).")
    targets: tuple[Role, ...] = Field(..., min_length=1, description=(
        f"The roles it may hit. Drawn and shrunk from the simplest: one node ({_ONE}, "
        f"{_SEVERAL}[0]), then a role of several nodes ({_SEVERAL}), then a whole group ({_GROUP})."))
    hold: HoldRange | None = Field(None, description="This kind's own hold range (default: the space's).")
    with_: dict[str, Annotated[tuple[Any, ...], Field(min_length=1)]] = Field(
        default_factory=dict, alias="with", description=(
            "The values the kind's own fields may take, each a list, simplest first (shrinking moves to "
            f"the first): e.g. partition `direction: [both, in]`, `from: [[{_GROUP}, {_BESIDE}], [clients]]`. "
            "A field left out takes its default; a field without a default (latency's delay) must be listed."))


class FaultSpace(Model):
    """What a schedule is drawn from: fault kinds on roles, holds, how many steps."""

    faults: tuple[FaultChoice, ...] = Field(..., min_length=1, description=(
        "The fault kinds and their roles; shrinking moves toward the first listed: list the simplest first."))
    hold: HoldRange = Field(..., description="How long each step holds its fault.")
    steps: StepCount = Field(..., description="How many steps a schedule has.")
    overlap: Bool = Field(False, description=(
        "false: steps run one after another, each healed before the next. true: a step may also stay "
        "applied through the next one's hold and heal with it (a scenario step's overlaps_next); "
        "shrinking moves toward steps that do not overlap."))
    then: tuple[Step, ...] = Field((), description=(
        "Fixed steps, written as in a scenario, run after every drawn schedule: never drawn, never shrunk "
        "(e.g. a global failure and the restore from backup whose RPO the invariants judge, after the "
        "drawn faults that landed during the backups). `same` in the first names the last drawn step's node."))


class Exploration(Model):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="Unique, kebab-case.")]
    title: str = Field(..., min_length=1)
    policy: str = Field("", description="The policy text the invariants encode (copied into each scenario drawn).")
    component: str = Field("", description=f"Which component of the DR matrix ({COMPONENT_EXAMPLES}, ...).")
    requires: tuple[str, ...] = Field((), description=f"{REQUIRES}.")
    workload: WorkloadSection = Field(..., min_length=1, description="Signals to drive, with their rate.")
    backup: BackupSpec | None = Field(None, description="Backups on a schedule while the workload runs.")
    steady: Duration = Field(5.0, description="Steady state before the first fault.")
    fault_space: FaultSpace = Field(..., description="The faults schedules are drawn from.")
    recovery: Recovery = Field(default_factory=Recovery)
    after: Duration = Field(5.0, description="Steady state after recovery, before final reads.")
    invariants: tuple[Expectation, ...] = Field(..., min_length=1, description=(
        "What must hold whatever schedule runs: expectations, as in a scenario, each with its why."))

    def hold_of(self, choice: FaultChoice) -> tuple[int, int]:
        """The whole seconds a step of this choice may hold its fault."""
        holds = choice.hold or self.fault_space.hold
        return int(holds.min), int(holds.max)


# ---- reading the file ---------------------------------------------------------------------------


def is_exploration_data(data: object) -> bool:
    """A YAML document that is an exploration rather than a scenario: it has `fault_space:`."""
    return isinstance(data, dict) and SPACE_KEY in data


def looks_like_exploration_file(path: Path, keys: set[str] | None = None) -> bool:
    """An exploration file has the top-level key `fault_space:` (scanned, cheaply; `keys`: the file's
    `drills.files.scenario_yaml.top_level_keys`, when the caller has them already)."""
    from drills.files.scenario_yaml import top_level_keys

    return SPACE_KEY in (top_level_keys(path) if keys is None else keys)


def check_exploration_file(path: Path) -> tuple[Exploration | None, list[Problem]]:
    """The exploration of one file and every problem found in it (the exploration only if none)."""
    from drills.files.scenario_yaml import load_mapping

    root, problems = load_mapping(path, "an exploration file", "id, title, workload, fault_space, invariants, ...")
    if problems:
        return None, problems
    data = to_plain(root)
    exploration: Exploration | None = None
    try:
        exploration = Exploration.model_validate(data)
    except ValidationError as exc:
        problems = [_reworded(p) for p in schema_problems(str(path), root, exc, Exploration)]
    problems = sorted({*problems, *semantic_problems(str(path), root, data, expectations_key="invariants"),
                       *space_problems(str(path), root, data)})
    return (None if problems else exploration), problems


def _reworded(problem: Problem) -> Problem:
    """A scenario's sections in an exploration: say where their content goes."""
    if problem.message.startswith("unknown field") and problem.field in ("steps", "expectations"):
        message = ("an exploration has no steps: schedules are drawn from `fault_space:`" if problem.field == "steps"
                   else "an exploration's expectations are its `invariants:`")
        return Problem(problem.file, problem.line, problem.column, problem.field, message)
    return problem


def load_exploration(path: Path) -> Exploration:
    exploration, problems = check_exploration_file(path)
    if problems or exploration is None:
        raise ScenarioError("\n".join(str(p) for p in problems) or f"{path}: invalid",
                            hint="fix the file; `drill schema --exploration` prints the format")
    return exploration


def exploration_json_schema() -> dict[str, Any]:
    from drills.files.scenario_yaml import json_schema_of

    return json_schema_of(Exploration, "Drills exploration")


# ---- what the schema cannot say about the fault space -----------------------------------------------


def space_problems(path: str, root: Any, data: Mapping[str, Any]) -> list[Problem]:
    """Ranges that are empty or not in whole seconds, and every value a
    schedule may draw checked as the step it will be part of. Reads the plain data, so these are
    reported with the schema's problems; a part the schema refuses is skipped here."""
    problems: list[Problem] = []

    def add(loc: Loc, message: str, *, at_key: bool = False) -> None:
        problems.append(problem_at(path, root, (SPACE_KEY, *loc), message, at_key=at_key))

    space = data.get(SPACE_KEY)
    if not isinstance(space, dict):
        return problems
    _hold_problems(add, ("hold",), space.get("hold"))
    steps = space.get("steps")
    if isinstance(steps, dict):
        low, high = steps.get("min"), steps.get("max")  # an absent min: max >= 1 is the schema's
        if _is_int(low) and _is_int(high) and low > high:
            add(("steps", "min"), f"min ({low}) is more than max ({high})")
    view = view_of(data)
    _then_problems(add, space.get("then"), view)
    faults = space.get("faults")
    for i, choice in enumerate(faults if isinstance(faults, list) else []):
        if isinstance(choice, dict):
            _choice_problems(lambda loc, msg, i=i, **kw: add(("faults", i, *loc), msg, **kw), choice, view)
    return problems


def _then_problems(add: Any, then: object, view: FileView) -> None:
    """The fixed steps' own cross-field checks (a restore against the backup schedule), as a
    scenario's steps get them; their fields are the schema's."""
    steps = then if isinstance(then, list) else []
    for i, step in enumerate(steps):
        kind = step.get("fault") if isinstance(step, dict) else None
        fault = FAULTS.get(kind) if isinstance(kind, str) else None
        if fault is None or not isinstance(step, dict):
            continue  # the schema reports it
        for loc, message in fault.problems(step, view) if fault.problems is not None else ():
            add(("then", i, *loc), message)
        if step.get("overlaps_next") is True and i == len(steps) - 1:
            add(("then", i, "overlaps_next"), "the last step has no next step to overlap: remove overlaps_next")


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _hold_problems(add: Any, loc: Loc, hold: object) -> None:
    if not isinstance(hold, dict):
        return
    seconds = {}
    for end in ("min", "max"):
        try:
            seconds[end] = parse_duration(hold.get(end))
        except ValueError:
            continue  # the schema reports it
        if seconds[end] != math.floor(seconds[end]):
            add((*loc, end), f"holds are drawn in whole seconds: use {math.floor(seconds[end]):g}s or "
                             f"{math.ceil(seconds[end]):g}s")
    if len(seconds) == 2 and seconds["min"] > seconds["max"]:
        add((*loc, "min"), f"min ({seconds['min']:g} s) is more than max ({seconds['max']:g} s)")


def _choice_problems(add: Any, choice: Mapping[str, Any], view: FileView) -> None:
    _hold_problems(add, ("hold",), choice.get("hold"))
    targets = choice.get("targets")
    targets = [t for t in targets if isinstance(t, str)] if isinstance(targets, list) else []
    for j, target in enumerate(targets):
        if target.strip() == SAME_TARGET:
            add(("targets", j), f"`{SAME_TARGET}` names the previous step's node; an exploration draws its targets "
                                f"from roles ({_ONE}, {_SEVERAL}, {_GROUP})")
    kind = choice.get("kind")
    fault = FAULTS.get(kind) if isinstance(kind, str) else None
    if fault is None:
        return  # the schema reports it
    model = fault.step
    fields = [name for name in field_names(model) if name not in DRAWN]
    given = choice.get("with")
    given = given if isinstance(given, dict) else {}
    for key in given:
        if key in DRAWN:
            add(("with", key), f"`{key}` is drawn by the exploration, not chosen: "
                               + ("set the hold range (fault_space.hold, or this fault's hold: {min, max})"
                                  if key == "hold" else "list the roles under targets:" if key == "target"
                                  else "steps always heal" if key == "heal" else "it is the fault's kind"),
                at_key=True)
        elif key not in fields:
            add(("with", key), f"{kind} has no field {key!r}" + (suggest(str(key), fields) or (
                f" (its fields: {', '.join(fields)})" if fields else "; it has no fields of its own")), at_key=True)
    required = [name for name in fields if _required(model, name)]
    for name in required:
        if name not in given:
            add(("kind",), f"{kind} needs `{name}`: list its values under `with:`, e.g. with: {{{name}: [...]}}")
    choices = {k: v for k, v in given.items() if k in fields and isinstance(v, list) and v}
    first = {k: v[0] for k, v in choices.items()}
    target = targets[0] if targets else registry.role_examples()[0]  # a one-node role, to probe the model
    accepted: dict[str, list[int]] = {}  # the values each field's model takes
    for key, values in choices.items():
        accepted[key] = []
        for k, value in enumerate(values):
            probe = {"fault": kind, "target": target, **first, key: value}
            try:
                model.model_validate(probe)
            except ValidationError as exc:
                for err in exc.errors():
                    where = tuple(err["loc"])
                    if where[:1] == (key,):
                        add(("with", key, k, *where[1:]), _message(err))
            else:
                accepted[key].append(k)
    roles = [(j, t) for j, t in enumerate(targets) if t.strip() != SAME_TARGET and _is_role(t)]  # others: above
    if roles and choices.keys() >= set(required) and all(accepted.values()):
        drawn = {key: [(k, choices[key][k]) for k in ks] for key, ks in accepted.items()}
        _combination_problems(add, str(kind), roles, drawn, view)


def _is_role(text: str) -> bool:
    try:
        registry.role(text)
    except StackError:
        return False
    return True


def _combination_problems(add: Any, kind: str, targets: list[tuple[int, str]],
                          values: Mapping[str, list[tuple[int, Any]]], view: FileView) -> None:
    """The kind's own cross-field checks (a restore's method against the backup schedule's, a
    partition cutting a group from itself) on the combinations of a target and values. A schedule
    never draws a combination they refuse; a target or a value that is in no drawable combination
    is a mistake of the file, and so is a kind with no drawable combination at all. `values`: the
    values of each field the model accepts, `targets` the valid roles, each with its index in the file."""
    combos = check_combinations(kind, targets, values, view)
    checked = ("in every combination this fault lists" if combos.complete else
               f"in each of the {combos.checked:,} combinations checked, of {combos.total:,}: list fewer or "
               f"shorter values to have them all checked")
    if not combos.witness:  # nothing of this kind can be drawn: say why where the kind's checks point
        keys = list(values)
        first = {k: values[k][0][0] for k in keys}
        step = {"fault": kind, "target": targets[0][1], **{k: values[k][0][1] for k in keys}}
        for loc, message in refused(kind, step, view):
            shown = message if combos.complete else f"{message} ({checked})"
            if loc[:1] and loc[0] in values:
                add(("with", loc[0], first[str(loc[0])], *loc[1:]), shown)
            else:
                add(("targets", targets[0][0]) if loc[:1] == ("target",) else ("kind",), shown)
        return
    for part, message in combos.why.items():
        if part not in combos.witness:
            add(part, f"{message} ({checked})")
    parts = [("targets", j) for j, _ in targets] + [("with", k, i) for k, vs in values.items() for i, _ in vs]
    unchecked = [p for p in parts if p not in combos.witness and p not in combos.why]
    if unchecked:  # the budget ran out before every target and value was in one combination
        add(("kind",), f"too many combinations of targets and values to check ({combos.total:,}, reading up to "
                       f"{MAX_CHECKED_VALUES:,} values): {len(unchecked):,} of its targets and values were not "
                       f"checked; list fewer or shorter values")


@dataclass
class Combinations:
    """What a fault kind's cross-field checks say of the combinations of a target and a value of
    each field: how many there are, how many were checked (all, unless reading them passes
    MAX_CHECKED_VALUES) and refused, a drawable step holding each target and value (its witness:
    a part with none is never drawn), and the first refusal of each target and value."""

    total: int
    checked: int = 0
    refused: int = 0
    witness: dict[Loc, dict[str, Any]] = field(default_factory=dict)
    why: dict[Loc, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return self.checked == self.total


def check_combinations(kind: str, targets: Sequence[tuple[int, str]],
                       values: Mapping[str, Sequence[tuple[int, Any]]], view: FileView) -> Combinations:
    """The kind's cross-field checks on the combinations of `targets` and `values` (each with its
    index in the file, as `("targets", j)` and `("with", key, i)` name them), within MAX_CHECKED_VALUES.

    Each value has been checked by the step's model on its own (no step model checks one field
    against another; tests/unit/test_exploration.py holds them to that), so only the kind's
    cross-field checks run here, and only for kinds that have them. The combinations are taken so
    that every target and value is in one of the first few (target i with the i-th value of each
    field), then all of them in order, until the values read pass the bound."""
    keys = list(values)
    lists = [list(targets), *(list(values[k]) for k in keys)]
    combos = Combinations(total=math.prod(map(len, lists)))
    if not combos.total:
        return combos
    fault = FAULTS.get(kind)
    checks = fault.problems if fault is not None else None
    sizes = [[_size(item) for _, item in parts] for parts in lists]
    spent = 0
    for picks in _covering_first(list(map(len, lists))):
        (j, target), *chosen = (lists[n][i] for n, i in enumerate(picks))
        step = {"fault": kind, "target": target, **{k: value for k, (_, value) in zip(keys, chosen, strict=True)}}
        parts: list[Loc] = [("targets", j), *(("with", k, i) for k, (i, _) in zip(keys, chosen, strict=True))]
        if checks is None:  # nothing can refuse a combination: one holding each part is all there is to find
            for part in parts:
                combos.witness.setdefault(part, step)
            if len(combos.witness) == sum(map(len, lists)):
                combos.checked = combos.total
                return combos
            continue
        spent += sum(sizes[n][i] for n, i in enumerate(picks))
        if spent > MAX_CHECKED_VALUES:
            return combos
        combos.checked += 1
        found = list(checks(step, view))
        if not found:
            for part in parts:
                combos.witness.setdefault(part, step)
            continue
        combos.refused += 1
        for part in parts:
            combos.why.setdefault(part, found[0][1])
    combos.checked = combos.total if checks is None else combos.checked
    return combos


def _covering_first(lengths: list[int]) -> Iterator[tuple[int, ...]]:
    """Index tuples into lists of these lengths: first max(lengths) of them that together hold every
    index of every list, then every other tuple, in order (each once)."""
    first = [tuple(i % n for n in lengths) for i in range(max(lengths))]
    yield from first
    seen = set(first)
    yield from (picks for picks in itertools.product(*map(range, lengths)) if picks not in seen)


def _size(value: object) -> int:
    """How many values a value holds (a list of roles: one per role, and one for the list)."""
    if isinstance(value, Mapping):
        return 1 + sum(map(_size, value.values()))
    return 1 + sum(map(_size, value)) if isinstance(value, list | tuple) else 1


def view_of(data: Mapping[str, Any]) -> FileView:
    """The file's plain data as the fault kinds' and checkers' cross-field checks read it."""
    recovery, backup, workload = data.get("recovery"), data.get("backup"), data.get("workload")
    return FileView(data, workload if isinstance(workload, dict) else None,
                    backup if isinstance(backup, dict) else None,
                    steady=duration_or(data.get("steady"), 5.0), after=duration_or(data.get("after"), 5.0),
                    recovery_timeout=duration_or(recovery.get("timeout") if isinstance(recovery, dict) else None,
                                                 120.0))


def refused(kind: str, step: Mapping[str, Any], view: FileView) -> list[tuple[Loc, str]]:
    """Why the fault kind refuses this step of a file (its model, then its cross-field checks); []
    when it does not."""
    fault = FAULTS.get(kind)
    if fault is None:
        return [(("fault",), f"no fault kind {kind!r}")]
    try:
        fault.step.model_validate({"fault": kind, **step})
    except ValidationError as exc:
        return [(tuple(err["loc"]), _message(err)) for err in exc.errors()]
    return list(fault.problems(step, view)) if fault.problems is not None else []


def _required(model: type[Model], name: str) -> bool:
    return any((info.alias or field) == name and info.is_required() for field, info in model.model_fields.items())


def _message(err: Any) -> str:
    msg = str(err["msg"])
    msg = msg.removeprefix("Value error, ").replace("Input should be", "must be")
    got = err.get("input")
    shown = repr(got)
    if isinstance(got, str | int | float) and not isinstance(got, bool) and shown not in msg and len(shown) < 80:
        msg += f" (got {shown})"
    return msg
