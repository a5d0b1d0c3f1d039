"""Declared assumptions: the configuration facts an expectation's bound and its `why:` rely on,
checked against the configuration read back from the stack drilled.

A `why:` explains a bound in words ("ttl 10 s + loop_wait 2 s + ..."); an expectation's `assumes:`
states the facts that explanation needs, in a small grammar a machine checks:

    postgres.patroni.ttl <= 10
    postgres.patroni.synchronous_mode == true          (or the shorthand `postgres.patroni.synchronous_mode: true`)
    postgres.synchronous_commit in [on, remote_write, remote_apply]

    PATH OP VALUE    OP one of == != <= < >= > in;  `PATH: VALUE` is `PATH == VALUE`
    VALUE            a number, true/false, or a word (on, local, quorum, pause_minority, ...), as the
                     fact's kind says; `in` takes a list [a, b, ...]

PATH names one of `FACTS` (each with where the effective configuration holds it and what it
means: `drill schema` prints them); a path with `<queue>` or `<role>` takes a name there.

    parse(text) -> Assumption                 ValueError in words for a file (unknown fact, bad
                                              operator, unparsable value)
    check(assumption, effective) -> AssumptionCheck    held | broken (with what the stack runs) |
                                              unchecked (with why: a fact not read is never held)

Pure, and below the checkers: an expectation model declares the field (`Assumes`), `drills.run.evaluate`
checks it against `drills.core.effective_config.EffectiveConfig`, which it reads through the
small protocol `EffectiveLike` (the checkers may not import the stack).
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Protocol

from pydantic import BeforeValidator, WithJsonSchema

from drills.components.registry import ADAPTER_FACTS, FACT_EXAMPLES, LEGACY_FACTS
from drills.core.effective_config import INSTANCES, Fact, Kind
from drills.core.yaml_locate import suggest

Scalar = bool | float | str
Value = Scalar | tuple[Scalar, ...]

# Each kind's facts, then the instances' (every stack has them), then those each component adapter
# declares of its effective configuration (its `Effective.facts`).
_INSTANCES = Fact("instances.defined.<role>", "number", INSTANCES, ("defined", "<role>"), "defined",
                  "how many services of the role the stack defines")
FACTS: tuple[Fact, ...] = (*LEGACY_FACTS, _INSTANCES, *ADAPTER_FACTS)
OPS = ("==", "!=", "<=", "<", ">=", ">", "in")
ORDERING = ("<=", "<", ">=", ">")
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt,
    "in": lambda actual, values: actual in values,
}
_NAME = r"[A-Za-z0-9_.-]+"  # a queue's or a role's name in a path
_PATHS = [(fact, re.compile(re.escape(fact.path).replace(re.escape(f"<{fact.placeholder}>"), f"({_NAME})")
                            if fact.placeholder else re.escape(fact.path))) for fact in FACTS]
_NUMBER = re.compile(r"[-+]?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_WORD = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:/+-]*")
_BOOLS = {"true": True, "false": False}
# The path (up to an operator's first character or a space), the operator, the value.
_HEAD = re.compile(r"\s*(?P<path>[^\s=!<>:\[\],]*)\s*(?P<rest>.*)", re.S)
_OP = re.compile(r"(?P<op>==|!=|<=|>=|<|>|:|in(?=[\s\[]))\s*(?P<value>.*)", re.S)
EXAMPLES = FACT_EXAMPLES
GRAMMAR = ("`PATH OP VALUE`, OP one of ==, !=, <=, <, >=, > or `in [a, b, ...]`; `PATH: VALUE` is `PATH == VALUE`; "
           "e.g. " + "; ".join(f"`{e}`" for e in EXAMPLES))


def fact_of(path: str) -> tuple[Fact, str | None] | None:
    """The fact a path names, and the name it gives a `<queue>`/`<role>` (None: no such fact)."""
    for fact, pattern in _PATHS:
        found = pattern.fullmatch(path)
        if found:
            return fact, (found.group(1) if fact.placeholder else None)
    return None


def format_value(value: Value) -> str:
    """A value as the grammar writes it (`parse` reads it back to the same value)."""
    if isinstance(value, tuple):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


@dataclass(frozen=True)
class Assumption:
    path: str
    op: str  # one of OPS
    value: Value  # a tuple for `in`

    def __str__(self) -> str:
        return f"{self.path} {self.op} {format_value(self.value)}"

    @property
    def fact(self) -> Fact:
        found = fact_of(self.path)
        if found is None:  # parse() never makes one
            raise ValueError(f"unknown fact {self.path!r}")
        return found[0]


def _scalar(text: str, fact: Fact, path: str) -> Scalar:
    if fact.kind == "number":
        if _NUMBER.fullmatch(text):
            number = float(text)
            if math.isfinite(number):
                return number
        raise ValueError(f"unparsable value {text!r}: {path} is a number")
    if fact.kind == "bool":
        if text in _BOOLS:
            return _BOOLS[text]
        raise ValueError(f"unparsable value {text!r}: {path} is true or false")
    if _WORD.fullmatch(text):
        return text
    raise ValueError(f"unparsable value {text!r}: {path} is a word (letters, digits, _ . : / + -)")


def parse(text: str) -> Assumption:
    """One assumption of a file (see the module's doc), or ValueError saying what is wrong with it."""
    head = _HEAD.fullmatch(text)
    path, rest = (head.group("path"), head.group("rest")) if head else ("", text)
    if not path:
        raise ValueError(f"an assumption is {GRAMMAR}")
    found = fact_of(path)
    if found is None:
        plain = [f.path for f in FACTS]
        raise ValueError(f"unknown fact {path!r}" + (suggest(path, plain) or f" (facts: {', '.join(plain)}; "
                                                                          "`drill schema` describes them)"))
    fact = found[0]
    match = _OP.fullmatch(rest.rstrip())
    if match is None:
        got = rest.split()[0] if rest.split() else ""
        said = f"bad operator {got!r} after {path}" if got else f"no operator after {path}"
        raise ValueError(f"{said}: use ==, !=, <=, <, >=, >, in [a, b], or `PATH: VALUE`")
    op = "==" if match.group("op") == ":" else match.group("op")
    raw = match.group("value").strip()
    if not raw:
        raise ValueError(f"no value after `{path} {op}`")
    if op in ORDERING and fact.kind != "number":
        raise ValueError(f"bad operator {op!r}: it compares numbers, and {path} is "
                         f"{'true or false' if fact.kind == 'bool' else 'a word'}: use ==, != or in [a, b]")
    if op == "in":
        if not (raw.startswith("[") and raw.endswith("]")):
            raise ValueError(f"unparsable value {raw!r}: `in` takes a list, e.g. `{path} in [a, b]`")
        items = [item.strip() for item in raw[1:-1].split(",")]
        if items == [""]:
            raise ValueError(f"unparsable value {raw!r}: `in` takes a list of at least one value")
        if "" in items:
            raise ValueError(f"unparsable value {raw!r}: an empty item in the list")
        return Assumption(path, op, tuple(_scalar(item, fact, path) for item in items))
    if raw.startswith("["):
        raise ValueError(f"unparsable value {raw!r}: a list needs `in`, e.g. `{path} in {raw}`")
    return Assumption(path, op, _scalar(raw, fact, path))


# ---- the field of an expectation model ------------------------------------------------------------


def _from_file(value: object) -> str:
    """An item of `assumes:` as a file writes it, to its canonical text: a string, or the YAML
    mapping `PATH: VALUE` that a list item `- postgres.patroni.synchronous_mode: true` is."""
    if isinstance(value, Mapping):
        if len(value) != 1:
            raise ValueError("one assumption per item: `- PATH: VALUE` or `- PATH OP VALUE`")
        (key, given), = value.items()
        if isinstance(given, list | tuple):
            text = f"{key}: [{', '.join(_yaml_scalar(v) for v in given)}]"
        else:
            text = f"{key}: {_yaml_scalar(given)}"
        return str(parse(text))
    if not isinstance(value, str):
        raise ValueError(f"an assumption is {GRAMMAR}")
    return str(parse(value))


def _yaml_scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


def _schema() -> dict[str, Any]:
    plain = "|".join(_PATHS[i][1].pattern.replace("(", "(?:") for i in range(len(_PATHS)))
    return {"anyOf": [{"type": "string", "pattern": rf"^\s*(?:{plain})\s*(?:==|!=|<=|>=|<|>|:|in)"},
                      {"type": "object", "minProperties": 1, "maxProperties": 1}],
            "examples": list(EXAMPLES)}


Assumes = Annotated[str, BeforeValidator(_from_file), WithJsonSchema(_schema())]
ASSUMES_HELP = ("The configuration facts this bound and its why rely on, checked against the configuration read "
                f"back from the stack drilled: each {GRAMMAR}. Facts: "
                + "; ".join(f"{f.path} ({f.kind}: {f.description})" for f in FACTS) + ".")


# ---- checked against the effective configuration -------------------------------------------------

AssumptionStatus = Literal["held", "broken", "unchecked"]
HELD: AssumptionStatus = "held"
BROKEN: AssumptionStatus = "broken"
UNCHECKED: AssumptionStatus = "unchecked"
_STATUSES: dict[str, AssumptionStatus] = {HELD: HELD, BROKEN: BROKEN, UNCHECKED: UNCHECKED}


class PartLike(Protocol):
    """What a check reads of one part of the effective configuration (`effective_config.Part`)."""

    @property
    def status(self) -> str: ...  # read | not read | absent
    @property
    def reason(self) -> str: ...
    @property
    def settings(self) -> Mapping[str, Any]: ...
    @property
    def not_read(self) -> Mapping[str, str]: ...


class EffectiveLike(Protocol):
    def part(self, name: str) -> PartLike: ...


@dataclass(frozen=True)
class AssumptionCheck:
    """One assumption checked: held or broken (with the value the stack runs), or unchecked (why)."""

    assumes: str
    status: AssumptionStatus
    actual: Any = None  # what the stack runs (held, broken)
    reason: str = ""  # unchecked: why it could not be checked

    @property
    def runs(self) -> str:
        """What the stack runs, in words ("local"; "rabbit1 10, rabbit2 60" for a value per node)."""
        return _shown(self.actual)

    @property
    def text(self) -> str:
        """"this bound assumes X; the stack runs Y", as the journal's readers show it."""
        if self.status == UNCHECKED:
            return f"this bound assumes {self.assumes}; unchecked: {self.reason}"
        return f"this bound assumes {self.assumes}; the stack runs {self.runs}"

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"assumes": self.assumes, "status": self.status, "actual": self.actual}
        if self.reason:
            doc["reason"] = self.reason
        return doc

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> AssumptionCheck:
        """A result as a journal holds it; one whose status this version does not know is unchecked."""
        status = _STATUSES.get(str(doc.get("status")), UNCHECKED)
        reason = str(doc.get("reason") or ("" if status != UNCHECKED else "not recorded"))
        return cls(str(doc.get("assumes", "")), status, doc.get("actual"), reason)


def _shown(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {_shown(v)}" for k, v in value.items())
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_value(value)
    return str(value)


def _as_kind(actual: Any, kind: Kind) -> Scalar | None:
    """The value read, as the fact's kind (None: it is not one: the check cannot tell)."""
    if kind == "number":
        if isinstance(actual, int | float) and not isinstance(actual, bool):
            return float(actual) if math.isfinite(actual) else None
        if isinstance(actual, str) and _NUMBER.fullmatch(actual.strip()):
            return float(actual)
        return None
    if kind == "bool":
        if isinstance(actual, bool):
            return actual
        # Patroni and PostgreSQL read these spellings as booleans too.
        words = {"true": True, "on": True, "yes": True, "false": False, "off": False, "no": False}
        return words.get(actual.strip().lower()) if isinstance(actual, str) else None
    return actual if isinstance(actual, str) else None


def _read(fact: Fact, name: str | None, effective: EffectiveLike | None) -> tuple[bool, Any, str]:
    """(found, value, why not) of a fact in the effective configuration."""
    if effective is None:
        return False, None, "the run recorded no configuration of the stack"
    part = effective.part(fact.part)
    if part.status == "absent":
        return False, None, f"the stack has no {fact.part}: {part.reason}"
    if part.status != "read":
        return False, None, f"{fact.part} not read from the stack: {part.reason or 'no reason recorded'}"
    if fact.unread_item and fact.unread_item in part.not_read:
        return False, None, f"{fact.unread_item} not read from the stack: {part.not_read[fact.unread_item]}"
    value: Any = part.settings
    for step in fact.where:
        key = name if step == f"<{fact.placeholder}>" and name is not None else step
        if not isinstance(value, Mapping) or value.get(key) is None:
            there = f" ({fact.placeholder} {name!r})" if name is not None else ""
            return False, None, f"not in the configuration read from the stack{there}"
        value = value[key]
    return True, value, ""


def _other_manager(fact: Fact, effective: EffectiveLike | None) -> str | None:
    """The manager the stack's component runs when `fact` is another manager's (postgres.patroni.ttl
    on a stack whose postgres runs repmgr), else None."""
    if effective is None:
        return None
    part = effective.part(fact.part)
    runs = part.settings.get("adapter") if part.status == "read" else None
    if isinstance(runs, str) and fact.where[0] not in part.settings and fact.path.split(".")[1] == fact.where[0] \
            and fact.where[0] != runs:
        return runs
    return None


def check(assumption: Assumption, effective: EffectiveLike | None) -> AssumptionCheck:
    """Held or broken against what the stack runs; unchecked when the fact was not read (or no
    configuration was recorded: `effective` None), or reads as no value of its kind. A fact that
    differs per node (RabbitMQ's net_ticktime) holds only when every node's value does."""
    text = str(assumption)
    found = fact_of(assumption.path)
    if found is None:
        return AssumptionCheck(text, UNCHECKED, reason=f"{assumption.path} is no fact this version reads")
    fact, name = found
    other = _other_manager(fact, effective)
    if other is not None:
        # The bound's why relies on a mechanism of a manager this stack does not run (Patroni's
        # leader TTL on a repmgr stack): known false of it, not merely unread.
        return AssumptionCheck(text, BROKEN, actual=f"{other}, not {fact.manager or fact.where[0]}")
    ok, actual, why = _read(fact, name, effective)
    if not ok:
        return AssumptionCheck(text, UNCHECKED, reason=why)
    values = list(actual.values()) if isinstance(actual, Mapping) else [actual]
    typed = [_as_kind(v, fact.kind) for v in values]
    if not values:
        return AssumptionCheck(text, UNCHECKED, actual=actual, reason="the stack reports no value")
    if any(v is None for v in typed):
        return AssumptionCheck(text, UNCHECKED, actual=actual,
                               reason=f"the stack reports {_shown(actual)!r}, not a {fact.kind}")
    held = all(_COMPARE[assumption.op](v, assumption.value) for v in typed)
    return AssumptionCheck(text, HELD if held else BROKEN, actual=actual)


def check_all(assumes: Sequence[str], effective: EffectiveLike | None) -> tuple[AssumptionCheck, ...]:
    """Each declared assumption (as a validated model holds it) checked; one that no longer parses
    (a journal of another version) is unchecked, with why."""
    out = []
    for text in assumes:
        try:
            assumption = parse(text)
        except ValueError as exc:
            out.append(AssumptionCheck(text, UNCHECKED, reason=str(exc)))
            continue
        out.append(check(assumption, effective))
    return tuple(out)


def worst(results: Sequence[AssumptionCheck]) -> AssumptionStatus | None:
    """broken over unchecked over held; None when nothing is assumed."""
    statuses = {r.status for r in results}
    return next((s for s in (BROKEN, UNCHECKED, HELD) if s in statuses), None)
