"""The workload: concurrent clients that drive real traffic and record every operation.

    base.py      Client protocol (open / invoke / close), Result, the pacer (`SignalRunner`: a
                 fixed grid of start times per signal, one op in flight per client process),
                 sequence numbers, the per-op watchdog
    postgres.py  postgres.write: numbered INSERTs through a libpq multi-host URL; final read
    rabbitmq.py  rabbitmq.publish (confirms + mandatory) and rabbitmq.consume (manual acks); drain
    mongo.py     mongo.write: insert_one with w:majority or w:1; final read
    http.py      http.dashboard (GET /health via the balancer) and http.session (login once, same
                 session on every /whoami)
    e2e.py       e2e.notify: notifications keep arriving at the SMTP sink
    suite.py     a scenario's `workload:` -> all of the above (`build_workload`, for the runner)

Only `base` is imported here: each client module imports its driver (psycopg, pika, pymongo) and
is itself imported only by a drill that uses it.
"""

from drills.workload.base import (
    DEFAULT_OP_TIMEOUT_S,
    DEFAULT_RATE,
    Client,
    Clock,
    FinalRead,
    Grid,
    Result,
    SeqCounter,
    SignalRunner,
    Sink,
    Watchdog,
    clock_from,
    error_text,
    stop_all,
)

__all__ = [
    "DEFAULT_OP_TIMEOUT_S",
    "DEFAULT_RATE",
    "Client",
    "Clock",
    "FinalRead",
    "Grid",
    "Result",
    "SeqCounter",
    "SignalRunner",
    "Sink",
    "Watchdog",
    "clock_from",
    "error_text",
    "stop_all",
]
