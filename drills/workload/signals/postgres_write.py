"""postgres.write: numbered INSERTs through the libpq multi-host URL, as the app writes
(`drills.workload.postgres`); the final read is every row, from the leader."""

from __future__ import annotations

from drills.workload.signal import Driven, OpRecord, SignalContext, SignalKind, SignalSpec

NAME = "postgres.write"


def build(spec: SignalSpec, context: SignalContext) -> Driven:
    from drills.stack.postgres import PG_PORT
    from drills.workload.postgres import PostgresSignal, PostgresTarget

    pg = PostgresSignal(PostgresTarget(context.endpoints("postgres", PG_PORT), context.password))
    return Driven(context.paced(NAME, spec, pg.client), final_read=pg.final_read, close=pg.close)


KIND = SignalKind(
    name=NAME, model=SignalSpec, build=build,
    records=(OpRecord(NAME, "write", "the row's seq, unique in the drill"),),
    final_read="every seq in the drill_writes table, read from the leader",
    description="Numbered INSERTs into drill_writes through the libpq multi-host URL (read-write), as the app "
                "writes.")
