"""postgres.read: what postgres.write wrote, read back through the replicas, as a reporting app
or a read-only API would read it.

Each op is `SELECT max(seq) FROM drill_writes` on a replica (libpq's multi-host URL with
`target_session_attrs=prefer-standby`: a replica while one is up, else the leader; `standby`:
replicas only, so the signal fails while none is up). The op's value is the highest seq the read
saw (None while the table is empty): beside postgres.write's acknowledged seqs it shows how far a
replica lags, and whether a read ever saw less than what was acknowledged before it began.

A read changes nothing, so it is never `info`: it answered (`ok`) or it did not (`fail`: no
node, an error, or no answer within the op timeout, the watchdog then cutting the connection of a
frozen node). After any error the connection is dropped and the next op connects afresh, to
whichever node the URL picks then (libpq picks only at connect time). The table is postgres.write's:
until that signal created it, reads fail with a message saying so; in the first moments of a
drill, before postgres.write emptied it, a read may still see an earlier drill's rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import psycopg
from psycopg.conninfo import make_conninfo

from drills.workload.base import DEFAULT_OP_TIMEOUT_S, Clients, Result, error_text
from drills.workload.postgres import TABLE, PostgresTarget, PsycopgClient, shutdown_action

READ_SQL = f"SELECT max(seq) FROM {TABLE}"
UNDEFINED_TABLE = "42P01"
ReadFrom = Literal["replica-first", "replica"]
SESSION_ATTRS: dict[ReadFrom, str] = {"replica-first": "prefer-standby", "replica": "standby"}


@dataclass(frozen=True)
class ReadTarget:
    """The nodes and credentials of postgres.write (`PostgresTarget`), and which nodes may serve a read."""

    nodes: PostgresTarget
    read_from: ReadFrom = "replica-first"
    op_timeout_s: float = DEFAULT_OP_TIMEOUT_S

    def conninfo(self) -> str:
        return make_conninfo(self.nodes.conninfo(read_write=False), target_session_attrs=SESSION_ATTRS[self.read_from],
                             application_name="drills-read")


def read_error(exc: psycopg.Error) -> str:
    """Why a read failed, for the history."""
    if getattr(exc, "sqlstate", None) == UNDEFINED_TABLE:
        return f"no {TABLE} table yet (postgres.write creates it at its first write)"
    return error_text(exc)


class PostgresReader(PsycopgClient):
    kind = "read"

    def __init__(self, target: ReadTarget, process: int) -> None:
        super().__init__("postgres.read", process)
        self.target = target

    def invoke(self, seq: int) -> Result:
        try:
            conn, _ = self._connect(self.target.conninfo())
        except psycopg.Error as exc:
            return Result.fail(None, "connect: " + error_text(exc))
        self._watchdog.arm(self.target.op_timeout_s, shutdown_action(conn))
        try:
            row = conn.execute(READ_SQL).fetchone()
        except psycopg.Error as exc:
            timed_out = self._watchdog.disarm()
            self.close()
            return Result.fail(None, f"timeout after {self.target.op_timeout_s:g} s" if timed_out else read_error(exc))
        if self._watchdog.disarm():
            self.close()  # the watchdog shut the socket down just as the answer came in
        highest = row[0] if row is not None else None
        return Result.ok(int(highest) if highest is not None else None)


class PostgresReadSignal(Clients[PostgresReader]):
    """The postgres.read signal: builds its clients, and ends them."""

    def __init__(self, target: ReadTarget) -> None:
        self.target = target
        super().__init__(lambda process: PostgresReader(target, process), PostgresReader.shutdown)
