"""mongo.write: `insert_one({_id: seq})` into the replica set, write concern majority (or w:1).

The client is given every member's host port and the replica set's name, and lets the driver
find the primary (`directConnection=False`), as the app does. Caveat: the driver then talks to
the members as the replica set's config names them (`<container IP>:27017`, see the compose
file): reachable from the host on a Linux engine, not through Docker Desktop's VM.

Outcomes: no server could be selected (nothing sent), the server refused (not primary, a write
error) or the driver says no write was performed -> `fail`; a network error or timeout after the
command went out, or a write concern error (applied on the primary, not acknowledged by a
majority: it may be rolled back) -> `info`; acknowledged -> `ok`. With w:1 an acknowledged write
can still be rolled back after a failover; the lost-writes checker is what shows it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import pymongo
import pymongo.errors
from pymongo.collection import Collection
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from drills.core.history import Outcome
from drills.workload.base import DEFAULT_OP_TIMEOUT_S, Clients, Result, error_text

COLLECTION = "drill_writes"
# Not-primary answers to a write that the server refused before doing anything; other not-primary
# codes (InterruptedDueToReplStateChange 11602, shutdown codes) can interrupt a write midway.
REFUSED_NOT_PRIMARY = frozenset({10107, 13435})
WriteConcernName = Literal["majority", "1"]


@dataclass(frozen=True)
class MongoTarget:
    """The replica set's members as the host reaches them, and the stack file's `components.mongo`:
    its replica set, user (password DRILLS_APP_PASSWORD) and database."""

    endpoints: tuple[tuple[str, int], ...]
    password: str
    replica_set: str
    user: str
    database: str  # also where the user is defined (authSource)
    write_concern: WriteConcernName = "majority"
    timeout_ms: int = 2000  # server selection and connect
    op_timeout_s: float = DEFAULT_OP_TIMEOUT_S  # socket reads and write concern waits

    def client_options(self) -> dict[str, Any]:
        if not self.endpoints:
            raise ValueError("no MongoDB endpoints")
        op_ms = int(self.op_timeout_s * 1000)
        return {
            "host": [f"{h}:{p}" for h, p in self.endpoints],
            "replicaSet": self.replica_set,
            "directConnection": False,
            "username": self.user, "password": self.password, "authSource": self.database,
            "serverSelectionTimeoutMS": self.timeout_ms, "connectTimeoutMS": self.timeout_ms,
            # A frozen primary's kernel still ACKs TCP: only a read timeout ends the wait.
            "socketTimeoutMS": op_ms,
            "w": "majority" if self.write_concern == "majority" else 1,
            "wTimeoutMS": op_ms,  # w:majority with the secondaries gone would wait forever
            "retryWrites": True,  # the driver's default, as the app runs it
            "appname": "drills-workload",
        }


def classify_write_error(exc: BaseException) -> Outcome:
    """The outcome of an insert that raised `exc`."""
    errors = pymongo.errors
    if isinstance(exc, errors.ServerSelectionTimeoutError):
        # Raised only when the first attempt found no server: on a retry the driver re-raises the
        # first attempt's error instead, so that this one always means "never sent".
        return Outcome.FAIL
    if isinstance(exc, errors.PyMongoError) and exc.has_error_label("NoWritesPerformed"):
        return Outcome.FAIL
    if isinstance(exc, errors.NotPrimaryError):
        code = _code(exc)
        return Outcome.FAIL if code in REFUSED_NOT_PRIMARY else Outcome.INFO
    if isinstance(exc, errors.AutoReconnect):  # network errors and timeouts (NetworkTimeout too)
        return Outcome.INFO
    if isinstance(exc, errors.WriteConcernError | errors.DuplicateKeyError):
        # Applied on the primary, not (yet) on a majority. A duplicate _id cannot come from another
        # op (seqs are unique per drill): an earlier attempt of this very write got in.
        return Outcome.INFO
    if isinstance(exc, errors.OperationFailure):
        if exc.has_error_label("RetryableWriteError"):
            return Outcome.INFO  # shutdown or step-down codes: possibly interrupted midway
        return Outcome.FAIL  # the server's refusal: auth, validation, a write error
    if isinstance(exc, errors.ConfigurationError | errors.InvalidOperation):
        return Outcome.FAIL  # the client refused before sending
    return Outcome.INFO


def _code(exc: BaseException) -> int | None:
    details = getattr(exc, "details", None)
    if isinstance(details, dict) and isinstance(details.get("code"), int):
        return int(details["code"])
    code = getattr(exc, "code", None)
    return code if isinstance(code, int) else None


class CollectionReset:
    """Empties `drill_writes` once per drill before the first insert (one stack serves several
    drills: an earlier drill's documents would read back as never written by this one)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done = False

    def ensure(self, coll: Collection[dict[str, Any]]) -> None:
        with self._lock:
            if not self._done:
                coll.with_options(write_concern=WriteConcern("majority")).delete_many({})
                self._done = True


class MongoWriter:
    kind = "write"

    def __init__(self, target: MongoTarget, process: int, reset: CollectionReset) -> None:
        self.target = target
        self.process = process
        self.reset = reset
        self._client: pymongo.MongoClient[dict[str, Any]] | None = None

    def open(self) -> None:
        """Nothing to do: the first op connects (MongoClient itself connects in the background)."""

    def _collection(self) -> Collection[dict[str, Any]]:
        if self._client is None:
            self._client = pymongo.MongoClient(**self.target.client_options())
        return self._client[self.target.database][COLLECTION]

    def invoke(self, seq: int) -> Result:
        try:
            coll = self._collection()
            self.reset.ensure(coll)
        except pymongo.errors.PyMongoError as exc:
            return Result.fail(seq, "prepare: " + error_text(exc))
        try:
            coll.insert_one({"_id": seq, "process": self.process, "at": datetime.now(UTC)})
        except pymongo.errors.PyMongoError as exc:
            # The driver reconnects and re-discovers the primary on its own: keep the client.
            return Result(classify_write_error(exc), seq, error_text(exc))
        return Result.ok(seq)

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()


def final_read(target: MongoTarget, *, timeout_s: float = 60.0, interval_s: float = 1.0) -> set[int]:
    """Every `_id` in `drill_writes`, read from the primary with read concern majority: what the
    replica set has committed, not what a soon-to-be-rolled-back primary holds. Retries until
    `timeout_s` (an election may still be settling)."""
    deadline = time.monotonic() + timeout_s
    while True:
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(**target.client_options())
        try:
            coll = client[target.database].get_collection(COLLECTION, read_concern=ReadConcern("majority"))
            return {int(d["_id"]) for d in coll.find({}, {"_id": 1})}
        except pymongo.errors.PyMongoError:
            if time.monotonic() + interval_s > deadline:
                raise
        finally:
            client.close()
        time.sleep(interval_s)


class MongoSignal(Clients[MongoWriter]):
    signal = "mongo.write"

    def __init__(self, target: MongoTarget) -> None:
        self.target = target
        self.reset = CollectionReset()
        super().__init__(lambda process: MongoWriter(target, process, self.reset), MongoWriter.close)

    def final_read(self) -> set[Any]:
        return set(final_read(self.target))
