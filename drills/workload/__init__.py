"""The workload: concurrent clients that drive real traffic and record every operation.

    signal.py    the signal protocol: a kind's model, its build (clients, final read, drain),
                 the ops it records (`SignalKind`, `Driven`, `SignalContext`)
    registry.py  every kind by name, found in signals/ (the schema's list of signals)
    signals/     one module per kind, named after it (postgres.write: signals/postgres_write.py)
    suite.py     a scenario's `workload:` -> every signal built and run alike (`build_workload`)
    base.py      Client protocol (open / invoke / close), Result, the pacer (`SignalRunner`: a
                 fixed grid of start times per signal, one op in flight per client process),
                 sequence numbers, the per-op watchdog
    endpoints.py where the host reaches the stack's services

The clients of the first kinds, each imported by its kind's `build` only (they import drivers):

    postgres.py  postgres.write: numbered INSERTs through a libpq multi-host URL; final read
    rabbitmq.py  rabbitmq.publish (confirms + mandatory) and rabbitmq.consume (manual acks); drain
    rabbitmq_pipelined.py  rabbitmq.publish with a publish on every slot, confirms as they come
    mongo.py     mongo.write: insert_one with w:majority or w:1; final read
    http.py      http.dashboard (GET /health via the balancer) and http.session (login once, same
                 session on every /whoami)
    e2e.py       e2e.notify: notifications keep arriving at the SMTP sink
"""

from drills.workload.base import (
    DEFAULT_OP_TIMEOUT_S,
    DEFAULT_RATE,
    Client,
    Clock,
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
