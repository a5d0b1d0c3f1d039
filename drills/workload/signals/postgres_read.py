"""postgres.read: what postgres.write wrote, read back through the replicas
(`drills.workload.postgres_read`), as the same app login in the same database (the stack file's
`components.postgres`), by the same path (the proxy of `access`, where the stack names one: a
proxy that only sends sessions to the leader serves `replica-first` from the leader and fails
`replica`); a read changes nothing, so there is no final read."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from drills.workload.signal import Driven, OpRecord, SignalContext, SignalKind, SignalSpec

NAME = "postgres.read"


class PostgresReadSpec(SignalSpec):
    read_from: Literal["replica-first", "replica"] = Field(
        "replica-first", description="replica-first: a replica while one is up, else the leader; replica: replicas "
                                     "only (reads fail while none is up).")


def build(spec: PostgresReadSpec, context: SignalContext) -> Driven:
    from drills.workload.postgres_read import PostgresReadSignal, ReadTarget
    from drills.workload.signals.postgres_write import checked_target

    nodes = checked_target(context, NAME)
    reads = PostgresReadSignal(ReadTarget(nodes, spec.read_from))
    return Driven(context.paced(NAME, spec, reads.client), close=reads.close)


KIND = SignalKind(
    name=NAME, model=PostgresReadSpec, build=build, requires=("postgres.write",),
    records=(OpRecord(NAME, "read", "the highest seq of drill_writes the read saw (none while the table is empty, "
                                    "or when the read failed)"),),
    final_read=None,
    description="SELECT max(seq) FROM drill_writes on a replica (libpq target_session_attrs prefer-standby, or "
                "standby): how far the replicas follow postgres.write.")
