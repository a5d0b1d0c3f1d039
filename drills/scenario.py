"""Scenario files: YAML data -> typed, frozen `Scenario`, every problem located (file:line:col field).

A scenario is data only (chaostoolkit's lesson): which stack, which workload, which faults for how
long, and what the policy promises, as expectations with tolerances and a justification each.
Validation collects every problem of a file before anything starts; a user never sees a traceback
for a bad file.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from drills.errors import ScenarioError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(value: object) -> float:
    """`10s`, `1.5s`, `500ms`, `2m`, or a number of seconds -> seconds."""
    if isinstance(value, bool):
        raise ValueError(f"invalid duration {value!r} (use e.g. 10s, 1.5s, 500ms, 2m)")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if match is None:
            raise ValueError(f"invalid duration {str(value)!r} (use e.g. 10s, 1.5s, 500ms, 2m)")
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]

SIGNALS = ("postgres.write", "mongo.write", "rabbitmq.publish", "http.dashboard", "http.session", "e2e.notify")
Signal = Literal["postgres.write", "mongo.write", "rabbitmq.publish", "http.dashboard", "http.session", "e2e.notify"]
FaultKind = Literal["kill", "stop-respawn", "pause", "restart-services", "partition", "latency", "loss",
                    "disk-loss", "corrupt", "total-failure"]
ROLE_PATTERN = r"^[a-z][a-z0-9-]*(\.[a-z*][a-z0-9*@-]*)?(\[\d+\])?$|^clients$"


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StackSpec(Model):
    file: str = Field("docker-compose.ha.yml", description="Compose file of the system under test.")
    overrides: tuple[str, ...] = Field((), description="Compose override files, applied in order.")
    profiles: tuple[str, ...] = Field((), description="Compose profiles to enable.")


class SignalSpec(Model):
    rate: float = Field(50.0, gt=0, le=2000, description="Operations per second.")
    clients: int = Field(1, ge=1, le=32, description="Concurrent client processes.")
    write_concern: Literal["majority", "1"] = Field("majority", description="MongoDB only.")


class PartitionParams(Model):
    from_: tuple[str, ...] = Field((), alias="from", description="Roles cut off from the target; "
                                   "`clients` = the host and app services. Default: the target's peers.")
    direction: Literal["both", "in", "out"] = "both"


class Step(Model):
    fault: FaultKind
    target: Annotated[str, Field(pattern=ROLE_PATTERN, description="A role: postgres.leader, rabbitmq.*, pg2, "
                                                                   "dashboard[0], ...")]
    hold: Duration = Field(10.0, description="How long the fault stays applied.")
    heal: bool = Field(True, description="Heal (respawn, reconnect, unpause) at the end of the hold.")
    # Fault-specific knobs; each fault module documents its own.
    from_: tuple[str, ...] | None = Field(None, alias="from")
    direction: Literal["both", "in", "out"] | None = None
    delay_ms: float | None = Field(None, ge=0)
    jitter_ms: float | None = Field(None, ge=0)
    loss_percent: float | None = Field(None, ge=0, le=100)
    files: int | None = Field(None, ge=1, description="corrupt: how many data files to damage.")
    keep_disks: bool | None = Field(None, description="total-failure: keep volumes (a power cut).")

    def params(self) -> dict[str, Any]:
        data = self.model_dump(by_alias=True, exclude={"fault", "hold", "heal"}, exclude_none=True)
        return data


class Recovery(Model):
    timeout: Duration = Field(120.0, description="Give up waiting for recovery after this long.")


class Availability(Model):
    checker: Literal["availability"]
    signal: Signal
    max_outage: Duration | None = None
    max_error_rate: float | None = Field(None, ge=0, le=1)
    max_rto: Duration | None = None
    sustain: Duration = Field(1.0, description="Success must hold this long to count as recovered.")
    why: str = Field(..., min_length=1, description="Why this bound: the policy line and the arithmetic.")


class LostWrites(Model):
    checker: Literal["lost-writes"]
    signal: Literal["postgres.write", "mongo.write"]
    max_lost: int = Field(0, ge=0)
    why: str = Field(..., min_length=1)


class QueueLoss(Model):
    checker: Literal["queue"]
    max_lost: int = Field(0, ge=0)
    max_duplicates: int | None = Field(None, ge=0)
    why: str = Field(..., min_length=1)


class Resync(Model):
    checker: Literal["resync"]
    max_resync: Duration
    why: str = Field(..., min_length=1)


class SteadyState(Model):
    checker: Literal["steady-state"]
    min_success_rate: float = Field(0.99, ge=0, le=1)
    why: str = Field(..., min_length=1)


Expectation = Annotated[Availability | LostWrites | QueueLoss | Resync | SteadyState,
                        Field(discriminator="checker")]


class Scenario(Model):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="Unique, kebab-case.")]
    title: str
    policy: str = Field(..., description="The policy text this scenario encodes, verbatim.")
    component: str = Field("", description="Which component of the DR matrix (postgres, rabbitmq, ...).")
    suites: tuple[str, ...] = Field(("policy",), description="Suites this scenario belongs to (drill run --suite).")
    stack: StackSpec = Field(default_factory=StackSpec)
    requires: tuple[str, ...] = Field((), description="Images that must be present, e.g. mongo:7; "
                                                      "absent -> the scenario is NOT RUN.")
    workload: dict[Signal, SignalSpec] = Field(..., min_length=1)
    steady: Duration = Field(5.0, description="Steady state before the first fault.")
    steps: tuple[Step, ...] = Field(..., min_length=1)
    recovery: Recovery = Field(default_factory=Recovery)
    after: Duration = Field(5.0, description="Steady state after recovery, before final reads.")
    expectations: tuple[Expectation, ...] = Field(..., min_length=1)


# ---- located errors -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    file: str
    line: int  # 1-based
    column: int  # 1-based
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


def _all_field_names() -> set[str]:
    names: set[str] = set()
    for model in (Scenario, StackSpec, SignalSpec, Step, Recovery, Availability, LostWrites, QueueLoss, Resync,
                  SteadyState):
        for name, info in model.model_fields.items():
            names.add(info.alias or name)
    return names


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _locate(root: Any, loc: tuple[int | str, ...], *, at_key: bool = False) -> tuple[int, int]:
    """(line, col), 0-based, of the deepest node of `loc` that exists in the YAML tree."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    node = root
    pos = (0, 0)
    for i, part in enumerate(loc):
        if isinstance(node, CommentedMap) and part in node:
            value = node[part]
            # A scalar is pointed at where its value stands; a mapping or list (or a bad key) at its key.
            container = isinstance(value, CommentedMap | CommentedSeq)
            last_key = at_key and i == len(loc) - 1
            pos = node.lc.key(part) if container or last_key else node.lc.value(part)
            node = value
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            pos = node.lc.item(part)
            node = node[part]
        else:
            break
    return pos


def _clean_loc(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    # Discriminated unions add the tag ("availability") and `dict[Signal, ...]` adds "[key]" to loc.
    tags = {"availability", "lost-writes", "queue", "resync", "steady-state"}
    return tuple(p for p in loc if not (isinstance(p, str) and (p in tags or p.endswith("[key]"))))


def _message(err: Any, loc: tuple[int | str, ...]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        close = difflib.get_close_matches(key, sorted(_all_field_names()), n=1)
        return f"unknown field {key!r}" + (f"; did you mean {close[0]!r}?" if close else "")
    if kind == "missing":
        return "required field is missing"
    if kind == "union_tag_invalid":
        tag = str(err.get("ctx", {}).get("tag", "?"))
        expected = [t.strip(" '") for t in str(err.get("ctx", {}).get("expected_tags", "")).split(",")]
        close = difflib.get_close_matches(tag, expected, n=1)
        return f"unknown checker {tag!r}" + (f"; did you mean {close[0]!r}?" if close else
                                            f" (one of {', '.join(expected)})")
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if kind in {"literal_error", "union_tag_invalid"}:
        msg = msg.replace("Input should be", "must be one of")
    got = err.get("input")
    if kind not in {"missing"} and isinstance(got, str | int | float) and str(got) not in msg:
        msg += f" (got {got!r})"
    return msg


def _problems_from(path: str, root: Any, exc: ValidationError) -> list[Problem]:
    problems = []
    errors = exc.errors()
    inner = {tuple(e["loc"])[:1] for e in errors if len(e["loc"]) > 1}
    for err in errors:
        raw = tuple(err["loc"])
        if err["type"] == "too_short" and raw[:1] in inner:
            continue  # "at least 1 item" only echoes that its items were invalid
        raw = tuple(err["loc"])
        loc = _clean_loc(raw)
        line, col = _locate(root, loc, at_key=err["type"] == "extra_forbidden")
        field = _field_path(loc)
        if err["type"] == "missing" and loc:
            line, col = _locate(root, loc[:-1])  # point at the mapping that lacks it
        problems.append(Problem(path, line + 1, col + 1, field, _message(err, loc)))
    return sorted(problems, key=lambda p: (p.line, p.column))


def _load_yaml(path: Path) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError

    yaml = YAML(typ="rt")
    try:
        text = path.read_text()
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = Problem(str(path), line, col, "", f"YAML syntax: {exc.problem or exc.context}")
        raise ScenarioError(str(problem)) from None


def check_file(path: Path) -> tuple[Scenario | None, list[Problem]]:
    try:
        root = _load_yaml(path)
    except ScenarioError as exc:
        first = str(exc)
        m = re.match(r"^(.*?):(\d+):(\d+): (.*)$", first)
        if m:
            return None, [Problem(m.group(1), int(m.group(2)), int(m.group(3)), "", m.group(4))]
        return None, [Problem(str(path), 1, 1, "", first)]
    if not isinstance(root, dict):
        return None, [Problem(str(path), 1, 1, "", "a scenario file must be a YAML mapping (id, title, ...)")]
    try:
        scenario = Scenario.model_validate(_plain(root))
    except ValidationError as exc:
        return None, _problems_from(str(path), root, exc)
    return scenario, semantic_problems(str(path), root, scenario)


def semantic_problems(path: str, root: Any, s: Scenario) -> list[Problem]:
    """What the schema cannot say: an expectation about a signal the workload does not run, ..."""
    problems = []
    for i, exp in enumerate(s.expectations):
        signal = getattr(exp, "signal", None)
        if signal is not None and signal not in s.workload:
            line, col = _locate(root, ("expectations", i, "signal"))
            problems.append(Problem(path, line + 1, col + 1, f"expectations[{i}].signal",
                                    f"{signal!r} is not in the workload ({', '.join(s.workload)})"))
        if exp.checker == "queue" and "rabbitmq.publish" not in s.workload:
            line, col = _locate(root, ("expectations", i))
            problems.append(Problem(path, line + 1, col + 1, f"expectations[{i}]",
                                    "the queue checker needs `rabbitmq.publish` in the workload"))
    return problems


def _plain(node: Any) -> Any:
    """ruamel's round-trip types -> plain dicts/lists (pydantic then reports positions we map back)."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def validate_files(paths: list[Path]) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for path in paths:
        scenario, found = check_file(path)
        problems += found
        if scenario is not None:
            if scenario.id in seen:
                problems.append(Problem(str(path), 1, 1, "id",
                                        f"duplicate id {scenario.id!r} (also in {seen[scenario.id]})"))
            seen[scenario.id] = str(path)
    return problems


def load_scenario(path: Path) -> Scenario:
    scenario, problems = check_file(path)
    if problems or scenario is None:
        raise ScenarioError("\n".join(str(p) for p in problems), hint="fix the file; `drill schema` prints the format")
    return scenario


def scenario_json_schema() -> dict[str, Any]:
    schema = Scenario.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Drills scenario"
    return schema
