"""Signal kinds by name, as scenario files spell them: the one list of the signals there are.

Each module of `drills.workload.signals` holds one kind (`KIND = SignalKind(...)`, see
`drills.workload.signal`); they are found by listing the package (`drills.core.discovery`, the rule
the fault kinds and the checkers follow too), so a new signal is a new module there and nothing
else. From them:

    KINDS             name -> SignalKind; `kind_of(name)` one of them
    SIGNALS           every name; `Signal` the type of a field that names one
    WRITE_SIGNALS     those that offer a final read (lost-writes, rpo); `WriteSignal` likewise
    WorkloadSection   the type of a scenario's `workload:`, each entry read by its own kind's model
                      (not `drills.run.runner.Workload`, the running clients)

Importing this imports every signal module, and they import no driver (psycopg, pika, pymongo):
cheap enough for `drill validate`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import SerializeAsAny, ValidationError, ValidatorFunctionWrapHandler, WithJsonSchema, WrapValidator
from pydantic_core import InitErrorDetails

from drills.core.discovery import Declared, declared, indexed, instance_of, lookup
from drills.workload.signal import SignalKind, SignalSpec


def _discover() -> dict[str, SignalKind[Any]]:
    found: list[Declared[SignalKind[Any]]] = declared("drills.workload.signals", "KIND", instance_of(SignalKind),
                                                      "a SignalKind")
    return indexed(((d.module, d.value) for d in found), lambda k: k.name, "signal")


KINDS: Mapping[str, SignalKind[Any]] = MappingProxyType(_discover())
SIGNALS: tuple[str, ...] = tuple(KINDS)
WRITE_SIGNALS: tuple[str, ...] = tuple(name for name, k in KINDS.items() if k.final_read is not None)

# For pydantic a Literal of the names (its errors list them, the JSON Schema has them as an enum);
# for mypy, which cannot see a Literal built at run time, a str.
if TYPE_CHECKING:
    Signal = str
    WriteSignal = str
else:
    Signal = Literal[SIGNALS]
    WriteSignal = Literal[WRITE_SIGNALS]


def kind_of(name: str) -> SignalKind[Any]:
    """The signal kind named `name`; an unknown one is a `RegistryError` listing the signals."""
    return lookup(KINDS, name, "signal")


def _each_by_its_model(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """`workload:` entries, each validated by its kind's model; every problem of every entry is
    reported at once, located at `workload.<signal>.<field>` (an unknown signal at its key, by the
    plain dict validation)."""
    if not isinstance(value, dict):
        return handler(value)
    errors: list[InitErrorDetails] = []
    specs: dict[Any, Any] = {}
    for name, entry in value.items():
        model = KINDS[name].model if isinstance(name, str) and name in KINDS else None
        if model is None:
            specs[name] = entry
            continue
        # A spec built in code with another kind's model is read as this kind's.
        given = entry.model_dump() if isinstance(entry, SignalSpec) and not isinstance(entry, model) else entry
        try:
            specs[name] = model.model_validate(given)
        except ValidationError as exc:
            errors += [_located(e, (name, *e["loc"])) for e in exc.errors()]
            specs[name] = model.model_construct()  # stands in, so that the keys are checked below
    try:
        validated = handler(specs)
    except ValidationError as exc:
        errors += [_located(e, tuple(e["loc"])) for e in exc.errors()]
    if errors:
        raise ValidationError.from_exception_data("workload", errors)
    return validated


def _located(error: Any, loc: tuple[int | str, ...]) -> InitErrorDetails:
    details: InitErrorDetails = {"type": error["type"], "loc": loc, "input": error["input"]}
    if "ctx" in error:
        details["ctx"] = error["ctx"]
    return details


def _json_schema() -> dict[str, Any]:
    return {"type": "object", "minProperties": 1, "additionalProperties": False,
            "properties": {name: {**k.model.model_json_schema(), "title": name,
                                  **({"description": k.description} if k.description else {})}
                           for name, k in KINDS.items()}}


WorkloadSection = Annotated[dict[Signal, SerializeAsAny[SignalSpec]], WrapValidator(_each_by_its_model),
                     WithJsonSchema(_json_schema())]
