"""postgres.write: numbered INSERTs through the libpq multi-host URL, as the app writes
(`drills.workload.postgres`), as the stack file's `components.postgres` app login into its
database; the final read is every row, from the leader."""

from __future__ import annotations

from typing import TYPE_CHECKING

from drills.core.errors import ScenarioError
from drills.stack.credentials import describe
from drills.workload.signal import Driven, OpRecord, SignalContext, SignalKind, SignalSpec

if TYPE_CHECKING:
    from drills.workload.postgres import PostgresTarget

NAME = "postgres.write"


def target(context: SignalContext) -> PostgresTarget:
    """The stack's PostgreSQL nodes, and the app login and database its stack file names."""
    from drills.workload.postgres import PostgresTarget

    pg = context.definition.postgres()
    app = pg.login("app")
    return PostgresTarget(context.endpoints("postgres", pg.sql_port), context.credential(app.password),
                          user=app.user, dbname=pg.database)


def checked_target(context: SignalContext, signal: str) -> PostgresTarget:
    """`target`, once the stack has accepted its login: a database or user the stack file names and
    the stack lacks is the stack file's mistake (ScenarioError, exit 2), found before the drill
    starts rather than as a warm-up that never succeeds."""
    from drills.workload.postgres import login_refusal

    found = target(context)
    refused = login_refusal(found)
    if refused is not None:
        pg = context.definition.postgres()
        if pg.users.app is not None:
            where = (f"name the stack's own database and app login under components: postgres: (database:, "
                     f"users: app:); the password is read from {describe(pg.users.app.password)} (users.app.password)")
        else:
            where = ("name the stack's own database and user under components: postgres: (database:, users: app: "
                     "{user:, password:}), or create them in the stack; without users.app the password is "
                     "Drills' generated DRILLS_APP_PASSWORD")
        raise ScenarioError(
            f"{signal}: the stack refuses the login of its stack file's components.postgres (user "
            f"{found.user!r}, database {found.dbname!r}): {refused} ({context.definition.path})", hint=where)
    return found


def build(spec: SignalSpec, context: SignalContext) -> Driven:
    from drills.workload.postgres import PostgresSignal

    pg = PostgresSignal(checked_target(context, NAME))
    return Driven(context.paced(NAME, spec, pg.client), final_read=pg.final_read, close=pg.close)


KIND = SignalKind(
    name=NAME, model=SignalSpec, build=build,
    records=(OpRecord(NAME, "write", "the row's seq, unique in the drill"),),
    final_read="every seq in the drill_writes table, read from the leader",
    description="Numbered INSERTs into drill_writes through the libpq multi-host URL (read-write), as the app "
                "writes: as the stack's components.postgres app login, into its database.")
