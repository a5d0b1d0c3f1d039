"""mongo.write: `insert_one({_id: seq})` into the replica set with write concern majority or 1
(`drills.workload.mongo`); the final read is every document, with read concern majority."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from drills.errors import HarnessError, StackError
from drills.workload.signal import Driven, OpRecord, SignalContext, SignalKind, SignalSpec

NAME = "mongo.write"


def _write_concern(value: object) -> object:
    return "1" if value == 1 and not isinstance(value, bool) else value  # YAML `w: 1` is a number


class MongoWriteSpec(SignalSpec):
    write_concern: Annotated[Literal["majority", "1"], BeforeValidator(_write_concern)] = Field(
        "majority", description="Acknowledge after a majority (default) or the primary alone.")


def build(spec: MongoWriteSpec, context: SignalContext) -> Driven:
    from drills.stack.mongo import PORT
    from drills.workload.mongo import MongoSignal, MongoTarget, replica_set_name

    try:
        endpoints = context.endpoints("mongo", PORT)
    except StackError as exc:
        raise HarnessError(f"{NAME}: {exc}", hint="the scenario needs the `mongo` profile (requires: [mongo:7])") \
            from exc
    mongo = MongoSignal(MongoTarget(endpoints, context.password, replica_set=replica_set_name(_compose_text()),
                                    write_concern=spec.write_concern))
    return Driven(context.paced(NAME, spec, mongo.client), final_read=mongo.final_read, close=mongo.close)


def _compose_text() -> str:
    from drills.stack.project import compose_file

    try:
        return compose_file().read_text()
    except OSError:
        return ""


KIND = SignalKind(
    name=NAME, model=MongoWriteSpec, build=build,
    records=(OpRecord(NAME, "write", "the document's _id (a seq, unique in the drill)"),),
    final_read="every _id in the drill_writes collection, read from the primary with read concern majority",
    description="insert_one into the replica set, write concern majority or 1.")
