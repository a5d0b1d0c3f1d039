"""mongo.write: `insert_one({_id: seq})` into the replica set with write concern majority or 1
(`drills.workload.mongo`), into the database of the stack file's `components.mongo`; the final
read is every document, with read concern majority."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BeforeValidator, Field

from drills.components._stack_specs import MongoSpec
from drills.core.errors import HarnessError, StackError
from drills.workload.signal import Driven, OpRecord, SignalContext, SignalKind, SignalSpec

if TYPE_CHECKING:
    from drills.workload.mongo import MongoTarget

NAME = "mongo.write"


def _write_concern(value: object) -> object:
    return "1" if value == 1 and not isinstance(value, bool) else value  # YAML `w: 1` is a number


class MongoWriteSpec(SignalSpec):
    write_concern: Annotated[Literal["majority", "1"], BeforeValidator(_write_concern)] = Field(
        "majority", description="Acknowledge after a majority (default) or the primary alone.")


def build(spec: MongoWriteSpec, context: SignalContext) -> Driven:
    from drills.workload.mongo import MongoSignal

    mongo = MongoSignal(target(context, spec))
    return Driven(context.paced(NAME, spec, mongo.client), final_read=mongo.final_read, close=mongo.close)


def target(context: SignalContext, spec: MongoWriteSpec) -> MongoTarget:
    """The replica set's members, and its name, user and database as the stack file names them."""
    from drills.workload.mongo import MongoTarget

    mongo = context.definition.component("mongo", MongoSpec)
    try:
        endpoints = context.endpoints("mongo", mongo.port)
    except StackError as exc:
        raise HarnessError(f"{NAME}: {exc}", hint="the scenario needs the `mongo` profile (requires: [mongo:7])") \
            from exc
    return MongoTarget(endpoints, context.password, replica_set=mongo.replica_set, user=mongo.user,
                       database=mongo.database, write_concern=spec.write_concern)


KIND = SignalKind(
    name=NAME, model=MongoWriteSpec, build=build,
    records=(OpRecord(NAME, "write", "the document's _id (a seq, unique in the drill)"),),
    final_read="every _id in the drill_writes collection, read from the primary with read concern majority",
    description="insert_one into the replica set, write concern majority or 1.")
