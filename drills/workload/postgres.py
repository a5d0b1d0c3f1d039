"""postgres.write: sequence-numbered INSERTs through a libpq multi-host URL, as the app would.

Each op inserts one row `(seq, process)` into `drill_writes` on whichever node accepts a
read-write session (`target_session_attrs=read-write` over the stack's PostgreSQL members, or
over the proxy its applications use when the stack file names one: then a proxy that sends the
session to a replica makes the op fail, as it would the application's), autocommit. Outcomes
(Jepsen): the server never got the statement -> `fail`; the server answered with an error (a
demoted leader's "read-only transaction", say) -> `fail`; the connection was lost after the
INSERT was sent, so the commit may or may not have happened -> `info`; committed -> `ok`. After
any error the connection is dropped and the next op reconnects: a connection to a demoted leader
stays read-only forever, and libpq only picks the writable node at connect time.

The connection settings are the field notes' (failover measured at 8-12 s with them): a dead
host is given up after 2 s, keepalives every second, and unacknowledged data after 2 s.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

from drills.core.history import Outcome
from drills.workload.base import DEFAULT_OP_TIMEOUT_S, Clients, Result, Watchdog, error_text

TABLE = "drill_writes"
CREATE_SQL = f"CREATE TABLE IF NOT EXISTS {TABLE} (seq bigint PRIMARY KEY, process int NOT NULL, " \
             "at timestamptz NOT NULL DEFAULT now())"
INSERT_SQL = f"INSERT INTO {TABLE} (seq, process) VALUES (%s, %s)"
READ_SQL = f"SELECT seq FROM {TABLE}"

# SQLSTATEs after which a statement's fate is unknown although the server said something:
# the server shut down or crashed mid-statement (57P01/57P02), the link broke (08xxx), or the
# server itself does not know (40003 statement_completion_unknown).
UNKNOWN_SQLSTATES = frozenset({"57P01", "57P02", "40003"})
UNKNOWN_SQLSTATE_CLASSES = ("08",)


@dataclass(frozen=True)
class PostgresTarget:
    """Where and how to connect: the stack's nodes (host, port), or the proxy in front of them, and
    the user and database of the stack file's `components.postgres` (its app login: `users.app`, else
    `user` with DRILLS_APP_PASSWORD)."""

    endpoints: tuple[tuple[str, int], ...]
    password: str
    user: str
    dbname: str
    via: str = ""  # the proxy's role when `endpoints` are the proxy's; "": the members themselves
    connect_timeout_s: int = 2  # per host; libpq tries the next one after it
    op_timeout_s: float = DEFAULT_OP_TIMEOUT_S

    def conninfo(self, *, read_write: bool = True) -> str:
        if not self.endpoints:
            raise ValueError("no PostgreSQL endpoints")
        params: dict[str, Any] = {
            "host": ",".join(h for h, _ in self.endpoints),
            "port": ",".join(str(p) for _, p in self.endpoints),
            "user": self.user, "password": self.password, "dbname": self.dbname,
            "connect_timeout": self.connect_timeout_s,
            "keepalives": 1, "keepalives_idle": 1, "keepalives_interval": 1, "keepalives_count": 2,
            "tcp_user_timeout": 2000,
            "application_name": "drills-workload",
        }
        if read_write:
            params["target_session_attrs"] = "read-write"
        return make_conninfo("", **params)


# What PostgreSQL answers, at login, to a database or user that is not there (or a password it
# refuses): no SQLSTATE reaches the client at connect time, only the server's message.
REFUSALS = ('database "{dbname}" does not exist', 'role "{user}" does not exist',
            'password authentication failed for user "{user}"')


def refusal(message: str, target: PostgresTarget) -> str | None:
    """The login refusal in a connect error's `message` that no retry cures, or None (a node down,
    a timeout: the drill's ops record those)."""
    for pattern in REFUSALS:
        said = pattern.format(dbname=target.dbname, user=target.user)
        if said in message:
            return said
    return None


def login_refusal(target: PostgresTarget) -> str | None:
    """Connect once as the signal will (any node): what the server refuses for good, or None. A
    node that does not answer is no refusal: the warm-up's ops show it."""
    try:
        with psycopg.connect(target.conninfo(read_write=False), autocommit=True):
            return None
    except psycopg.Error as exc:
        return refusal(str(exc), target)


def classify_insert_error(exc: BaseException, *, connection_lost: bool) -> Outcome:
    """The outcome of an INSERT that raised `exc` after it was sent (autocommit)."""
    if connection_lost:
        return Outcome.INFO  # no answer, or an answer and then the link died: commit unknown
    sqlstate = getattr(exc, "sqlstate", None)
    if not isinstance(sqlstate, str) or not sqlstate:
        return Outcome.INFO  # not the server's verdict
    if sqlstate in UNKNOWN_SQLSTATES or sqlstate.startswith(UNKNOWN_SQLSTATE_CLASSES):
        return Outcome.INFO
    return Outcome.FAIL  # the server rejected the statement; in autocommit it was rolled back


class Schema:
    """Creates `drill_writes` and empties it, once per drill for all processes of the signal.

    Emptied because one stack serves several drills: rows of an earlier drill would read back as
    values this drill never wrote. Retried by the next op until it succeeds; no INSERT happens
    before it has."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done = False

    def ensure(self, conn: psycopg.Connection[Any]) -> None:
        with self._lock:
            if self._done:
                return
            # UniqueViolation: a concurrent CREATE TABLE IF NOT EXISTS elsewhere won the race.
            with contextlib.suppress(psycopg.errors.UniqueViolation):
                conn.execute(CREATE_SQL)
            conn.execute(f"TRUNCATE {TABLE}")
            self._done = True


class PsycopgClient:
    """A client process on one psycopg connection: opened by its first op, dropped after any error
    (the next op reconnects), and each op guarded by a watchdog (`_watchdog`, with `shutdown_action`)
    against a server that never answers."""

    def __init__(self, signal: str, process: int) -> None:
        self.process = process
        self._conn: psycopg.Connection[Any] | None = None
        self._watchdog = Watchdog(f"{signal}[{process}].watchdog")

    def open(self) -> None:
        """Nothing to do: the first op connects (the system may be down when the drill starts)."""

    def _connect(self, conninfo: str) -> tuple[psycopg.Connection[Any], bool]:
        """The open connection, else a new one, and whether it is new; psycopg.Error when none could be made."""
        conn = self._conn
        if conn is not None and not conn.closed:
            return conn, False
        self._conn = psycopg.connect(conninfo, autocommit=True)
        return self._conn, True

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # a broken connection may complain; it is gone anyway
                conn.close()

    def shutdown(self) -> None:
        """End of the drill: also stop the watchdog thread."""
        self.close()
        self._watchdog.close()


class PostgresClient(PsycopgClient):
    kind = "write"

    def __init__(self, target: PostgresTarget, process: int, schema: Schema) -> None:
        super().__init__("postgres.write", process)
        self.target = target
        self.schema = schema

    def invoke(self, seq: int) -> Result:
        try:
            conn, new = self._connect(self.target.conninfo())
        except psycopg.Error as exc:
            return Result.fail(seq, "connect: " + error_text(exc))
        if new:
            try:
                self.schema.ensure(conn)
            except psycopg.Error as exc:
                self.close()
                return Result.fail(seq, "create table: " + error_text(exc))
        self._watchdog.arm(self.target.op_timeout_s, shutdown_action(conn))
        try:
            conn.execute(INSERT_SQL, (seq, self.process))
        except psycopg.Error as exc:
            timed_out = self._watchdog.disarm()
            lost = timed_out or conn.broken or conn.closed
            outcome = classify_insert_error(exc, connection_lost=lost)
            self.close()  # see the module docstring: always reconnect after an error
            why = f"timeout after {self.target.op_timeout_s:g} s" if timed_out else error_text(exc)
            return Result(outcome, seq, why)
        if self._watchdog.disarm():
            self.close()  # the watchdog shut the socket down just as the answer came in
        return Result.ok(seq)


def shutdown_action(conn: psycopg.Connection[Any]) -> Callable[[], None]:
    """The watchdog's action for an op on `conn`: shut its socket down, so that a read blocked on a
    frozen server fails at once (`Watchdog`). For every client on a psycopg connection."""
    fd = conn.pgconn.socket

    def shutdown() -> None:
        # On a duplicate of the descriptor: shutdown acts on the socket itself, and closing the
        # duplicate leaves psycopg's descriptor (and its bookkeeping) untouched.
        with socket.socket(fileno=os.dup(fd)) as sock:
            sock.shutdown(socket.SHUT_RDWR)

    return shutdown


def final_read(target: PostgresTarget, *, timeout_s: float = 60.0, interval_s: float = 1.0) -> set[int]:
    """Every seq in `drill_writes`, read from the leader (whichever node is read-write now).

    Retries until `timeout_s`: the drill may end while a failover is still settling. Raises the
    last error when no leader answered."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with psycopg.connect(target.conninfo(), autocommit=True) as conn:
                return {int(row[0]) for row in conn.execute(READ_SQL)}
        except psycopg.Error:
            if time.monotonic() + interval_s > deadline:
                raise
            time.sleep(interval_s)


class PostgresSignal(Clients[PostgresClient]):
    """The postgres.write signal: builds its clients, reads the table back at the end."""

    signal = "postgres.write"

    def __init__(self, target: PostgresTarget) -> None:
        self.target = target
        self.schema = Schema()
        super().__init__(lambda process: PostgresClient(target, process, self.schema), PostgresClient.shutdown)

    def final_read(self) -> set[Any]:
        return set(final_read(self.target))
