"""postgres.write: numbered INSERTs as the app writes (`drills.workload.postgres`): through the
proxy the stack file names (`components.postgres.access`), else the libpq multi-host URL of every
member; as the stack file's `components.postgres` app login into its database. The final read is every
row, from the leader (by the same path)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from drills.components._stack_specs import PostgresBase
from drills.core.errors import ScenarioError
from drills.stack.credentials import describe
from drills.workload.signal import Driven, OpRecord, SignalContext, SignalKind, SignalSpec

if TYPE_CHECKING:
    from drills.workload.postgres import PostgresTarget

NAME = "postgres.write"


def target(context: SignalContext) -> PostgresTarget:
    """Where the stack's applications reach PostgreSQL, and the app login and database its stack
    file names: through the proxy of `components.postgres.access` (its port as the host reaches it),
    so a proxy that routes wrong fails the drill as it fails the applications; without one, every
    member (libpq picks the writable one)."""
    from drills.workload.postgres import PostgresTarget

    pg = context.definition.component("postgres", PostgresBase)
    app = pg.login("app")
    password = context.credential(app.password)
    if pg.access is not None:
        return PostgresTarget(context.endpoints(pg.access.through, pg.access.port), password, user=app.user,
                              dbname=pg.database, via=pg.access.through)
    return PostgresTarget(context.endpoints("postgres", pg.sql_port), password, user=app.user, dbname=pg.database)


def checked_target(context: SignalContext, signal: str) -> PostgresTarget:
    """`target`, once the stack has accepted its login: a database or user the stack file names and
    the stack lacks is the stack file's mistake (ScenarioError, exit 2), found before the drill
    starts rather than as a warm-up that never succeeds."""
    from drills.workload.postgres import login_refusal

    found = target(context)
    refused = login_refusal(found)
    if refused is not None:
        pg = context.definition.component("postgres", PostgresBase)
        if pg.users.app is not None:
            where = (f"name the stack's own database and app login under components: postgres: (database:, "
                     f"users: app:); the password is read from {describe(pg.users.app.password)} (users.app.password)")
        else:
            where = ("name the stack's own database and user under components: postgres: (database:, users: app: "
                     "{user:, password:}), or create them in the stack; without users.app the password is "
                     f"Drills' generated {pg.login('app').password.generated}")
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
    description="Numbered INSERTs into drill_writes (read-write), as the app writes: through the proxy of the "
                "stack's components.postgres.access, else the libpq multi-host URL of every member; as the stack's "
                "components.postgres app login, into its database.")
