"""The building blocks of scenario models: the frozen base model, numbers that are never booleans,
booleans that are never numbers, durations (`10s`, `1.5s`, `500ms`, `2m`) and roles (`postgres.leader`, `same`).

Every section's model (`drills.files.scenario_schema`), and each signal's, fault step's and checker's
own model in its module, is built from these, so that they read a file alike. Imports nothing of
Drills at module level but the components' registry (which roles each component has is its own),
which imports no model of a scenario: a model module can import it without a cycle through the schema.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, WithJsonSchema

from drills.components import registry

# ---- durations: 10s, 1.5s, 500ms, 2m, 1h, or a bare number of seconds ---------------------------

# ASCII digits only (`\d` would take Arabic-Indic and other Unicode digits); one run of spaces per
# gap, after strip(), so a long run of spaces costs linear time (two adjacent `\s*` around an
# optional unit made it quadratic).
DURATION_PATTERN = r"^\s*[0-9]+(\.[0-9]+)?\s*(ms|s|m|h)?\s*$"  # for editors (JSON Schema)
_DURATION = re.compile(r"(?P<number>[0-9]+(?:\.[0-9]+)?)(?:\s*(?P<unit>ms|s|m|h))?")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
DURATION_HELP = "use e.g. 10s, 1.5s, 2m"


def shorten(text: str, limit: int = 60) -> str:
    """Text as it may appear in a message: a 200 KB value is not echoed whole."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def parse_duration(value: object) -> float:
    """`10s`, `1.5s`, `500ms`, `2m`, `1h`, or a number of seconds -> seconds."""
    if value is None:
        raise ValueError(f"a duration is needed here ({DURATION_HELP})")
    if isinstance(value, bool):
        raise ValueError(f"invalid duration {value!r} ({DURATION_HELP})")
    if isinstance(value, int | float):
        try:
            seconds = float(value)
        except OverflowError:  # an int past float's range
            raise ValueError("a duration must be a finite number of seconds >= 0 (got a number too large "
                             "for a float)") from None
    else:
        match = _DURATION.fullmatch(str(value).strip())
        if match is None:
            raise ValueError(f"invalid duration {shorten(str(value))!r} ({DURATION_HELP})")
        seconds = float(match["number"]) * _UNITS[match["unit"]]
    if not 0 <= seconds < float("inf"):  # also refuses NaN
        raise ValueError(f"a duration must be a finite number of seconds >= 0 (got {shorten(repr(value))})")
    return seconds


def _not_bool(value: object) -> object:
    """pydantic's lax mode reads `rate: true` as 1.0; YAML's true and false are never numbers here."""
    if isinstance(value, bool):
        raise ValueError(f"must be a number, not {str(value).lower()}")
    return value


# Numbers of a scenario file: as pydantic's (lax: `50` for a float, `"50"` too) but no booleans.
Float = Annotated[float, BeforeValidator(_not_bool)]
Int = Annotated[int, BeforeValidator(_not_bool)]

# YAML's true and false only: pydantic's lax mode would read `heal: 1`, `"yes"` or `"on"` as true,
# and a mistyped switch would silently change what a drill does.
Bool = StrictBool

Duration = Annotated[float, BeforeValidator(parse_duration), WithJsonSchema({
    "anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": DURATION_PATTERN}],
    "examples": ["10s", "1.5s", "500ms", "2m"]})]

# ---- roles ------------------------------------------------------------------------------------------

# The grammar of drills.core.roles, for editors; `_role` asks that module itself.
ROLE_PATTERN = r"^[a-z][a-z0-9_-]*(\.(\*|[a-z]+(@[A-Za-z0-9_.-]+)?))?(\[[0-9]+\])?$"


def _role(value: str) -> str:
    from drills.core.errors import StackError

    try:
        registry.role(value)  # the selectors each component has are its own
    except StackError as exc:
        raise ValueError(str(exc)) from None
    return value.strip()


Role = Annotated[str, AfterValidator(_role), Field(min_length=1, json_schema_extra={"pattern": ROLE_PATTERN},
                            description=f"A role: {', '.join(registry.role_examples())}, dashboard[0], pg2, "
                                        f"clients, ...; `same`: the node the previous step acted on")]


# ---- models -----------------------------------------------------------------------------------------


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---- names ----------------------------------------------------------------------------------------

# Every expectation's justification (each checker's model, drills.checkers).
Why = Annotated[str, Field(min_length=1, description="Why this bound: the policy line and the arithmetic.")]


# ---- values of a file not validated yet (cross-field checks, drills.files.scenario.semantic_problems) ----


def duration_or(value: object, default: float) -> float | None:
    """A duration: `default` when absent, None when invalid (the schema reports that)."""
    if value is None:
        return default
    try:
        return parse_duration(value)
    except ValueError:
        return None


def number_or(value: object, default: float) -> float | None:
    """A number: `default` when absent, None when not a number (the schema reports that)."""
    if value is None:
        return default
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
