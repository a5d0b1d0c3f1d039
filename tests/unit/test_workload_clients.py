"""The pure parts of each client: outcome classification, connection settings, HTTP probes against
a stub server, the suite's wiring. No containers."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pika.exceptions as pe
import psycopg
import pymongo.errors as me
import pytest
from psycopg.conninfo import conninfo_to_dict

from drills.core.history import Outcome
from drills.workload.e2e import NotificationWatch, SinkTarget, message_count
from drills.workload.http import SESSION_LOST, HealthProbe, HttpTarget, SessionProbe
from drills.workload.mongo import MongoTarget, classify_write_error
from drills.workload.postgres import PostgresTarget, classify_insert_error
from drills.workload.rabbitmq import classify_publish_error

# ---- postgres -----------------------------------------------------------------------------------


def test_conninfo_is_multi_host_read_write_with_the_field_notes_timeouts():
    target = PostgresTarget((("127.0.0.1", 5001), ("127.0.0.1", 5002), ("127.0.0.1", 5003)), "s3cret", "app", "app")
    params = conninfo_to_dict(target.conninfo())
    assert params["host"] == "127.0.0.1,127.0.0.1,127.0.0.1"
    assert params["port"] == "5001,5002,5003"
    assert params["target_session_attrs"] == "read-write"
    assert (params["connect_timeout"], params["keepalives_idle"], params["tcp_user_timeout"]) == ("2", "1", "2000")
    assert (params["user"], params["dbname"], params["password"]) == ("app", "app", "s3cret")


@pytest.mark.parametrize(("exc", "lost", "expected"), [
    (psycopg.errors.ReadOnlySqlTransaction("read-only"), False, Outcome.FAIL),  # a demoted leader said no
    (psycopg.errors.UniqueViolation("dup"), False, Outcome.FAIL),
    (psycopg.errors.AdminShutdown("terminating connection"), False, Outcome.INFO),  # shut down mid-statement
    (psycopg.errors.lookup("08006")("connection failure"), False, Outcome.INFO),
    (psycopg.OperationalError("consuming input failed"), False, Outcome.INFO),  # no server verdict
    (psycopg.errors.ReadOnlySqlTransaction("read-only"), True, Outcome.INFO),  # and then the link died
])
def test_insert_errors_are_classified(exc, lost, expected):
    assert classify_insert_error(exc, connection_lost=lost) is expected


# ---- rabbitmq -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("exc", "expected"), [
    (pe.UnroutableError([]), Outcome.FAIL),  # returned: mandatory did its job
    (pe.NackError([]), Outcome.FAIL),
    (pe.ChannelWrongStateError("closed"), Outcome.FAIL),  # raised before writing anything
    (pe.ConnectionWrongStateError("closed"), Outcome.FAIL),
    (pe.StreamLostError("lost"), Outcome.INFO),  # waiting for the confirm
    (pe.ConnectionClosedByBroker(320, "shutdown"), Outcome.INFO),
    (pe.ChannelClosedByBroker(404, "no queue"), Outcome.INFO),
    (ConnectionResetError(104, "reset"), Outcome.INFO),
])
def test_publish_errors_are_classified(exc, expected):
    assert classify_publish_error(exc) is expected


# ---- mongo --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("exc", "expected"), [
    (me.ServerSelectionTimeoutError("no primary"), Outcome.FAIL),
    (me.NotPrimaryError("not primary", {"code": 10107}), Outcome.FAIL),
    (me.NotPrimaryError("interrupted", {"code": 11602}), Outcome.INFO),
    (me.AutoReconnect("connection reset"), Outcome.INFO),
    (me.NetworkTimeout("timed out"), Outcome.INFO),
    (me.WTimeoutError("waiting for replication timed out", 64, {}), Outcome.INFO),
    (me.WriteConcernError("primary stepped down", 189, {}), Outcome.INFO),
    (me.DuplicateKeyError("E11000", 11000), Outcome.INFO),
    (me.OperationFailure("not authorized", 13, {"code": 13}), Outcome.FAIL),
    (me.OperationFailure("shutdown", 91, {"code": 91, "errorLabels": ["RetryableWriteError"]}), Outcome.INFO),
    (me.AutoReconnect("x", {"errorLabels": ["NoWritesPerformed"]}), Outcome.FAIL),
    (me.ConfigurationError("bad uri"), Outcome.FAIL),
])
def test_mongo_write_errors_are_classified(exc, expected):
    assert classify_write_error(exc) is expected


def test_mongo_client_options():
    target = MongoTarget((("127.0.0.1", 1), ("127.0.0.1", 2), ("127.0.0.1", 3)), "pw", "rs9", "u", "db")
    opts = target.client_options()
    assert opts["host"] == ["127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"]
    assert (opts["replicaSet"], opts["directConnection"], opts["w"], opts["authSource"], opts["username"]) == \
        ("rs9", False, "majority", "db", "u")
    assert MongoTarget(target.endpoints, "pw", "rs9", "u", "db", write_concern="1").client_options()["w"] == 1


# ---- http probes against a stub dashboard -------------------------------------------------------


@dataclass
class Dashboard:
    """The contract SessionProbe assumes, in memory (sessions die with `restart()`)."""

    health: int = 200
    sessions: set[str] = field(default_factory=set)
    counter: int = 0
    messages: list[dict[str, Any]] = field(default_factory=list)

    def restart(self) -> None:
        self.sessions.clear()


def _handler(state: Dashboard) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _session(self) -> str | None:
            for part in (self.headers.get("Cookie") or "").split(";"):
                name, _, value = part.strip().partition("=")
                if name == "sid" and value in state.sessions:
                    return value
            return None

        def do_GET(self) -> None:
            if self.path == "/health":
                self._send(state.health)
            elif self.path == "/whoami":
                sid = self._session()
                if sid is None:
                    self._send(302, headers={"Location": "/login"})
                else:
                    self._send(200, {"user": "drill", "session": sid})
            elif self.path == "/messages":
                self._send(200, state.messages)
            else:
                self._send(404)

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.counter += 1
            sid = f"s{state.counter}"
            state.sessions.add(sid)
            self._send(303, headers={"Location": "/", "Set-Cookie": f"sid={sid}; Path=/; HttpOnly"})

    return Handler


@pytest.fixture
def dashboard() -> Iterator[tuple[Dashboard, str]]:
    state = Dashboard()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_health_probe(dashboard):
    state, url = dashboard
    probe = HealthProbe(HttpTarget(url))
    assert probe.invoke(1).outcome is Outcome.OK
    state.health = 503
    result = probe.invoke(2)
    assert (result.outcome, result.error, result.value) == (Outcome.FAIL, "HTTP 503", 2)


def test_health_probe_of_nothing_fails_fast():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = HealthProbe(HttpTarget(f"http://127.0.0.1:{port}", timeout_s=1)).invoke(7)
    assert result.outcome is Outcome.FAIL and "refused" in (result.error or "").lower()


def test_session_probe_notices_a_lost_session_and_logs_in_again(dashboard):
    state, url = dashboard
    probe = SessionProbe(HttpTarget(url))
    assert [probe.invoke(i).outcome for i in range(3)] == [Outcome.OK] * 3
    assert state.counter == 1  # logged in once
    state.restart()  # the instance holding the session is gone
    lost = probe.invoke(3)
    assert (lost.outcome, lost.error) == (Outcome.FAIL, SESSION_LOST)
    assert probe.invoke(4).outcome is Outcome.OK  # a new login
    assert probe.invoke(5).outcome is Outcome.OK
    assert state.counter == 2


def test_session_probe_keeps_its_session_through_an_outage(dashboard):
    state, url = dashboard
    probe = SessionProbe(HttpTarget(url))
    probe.invoke(0)
    probe.target = HttpTarget("http://127.0.0.1:1", timeout_s=0.5)
    assert probe.invoke(1).outcome is Outcome.FAIL
    probe.target = HttpTarget(url)
    assert probe.invoke(2).outcome is Outcome.OK
    assert state.counter == 1


# ---- e2e ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("doc", "count"), [
    ([{}, {}], 2), ({"count": 5}, 5), ({"total": 3, "items": []}, 3), ({"messages": [1, 2, 3]}, 3),
])
def test_message_count(doc, count):
    assert message_count(doc) == count


@pytest.mark.parametrize("doc", [{"count": True}, "text", {"other": 1}])
def test_message_count_refuses_what_it_does_not_know(doc):
    with pytest.raises(ValueError):
        message_count(doc)


def test_notifications_must_keep_arriving_within_the_window():
    now = [0.0]
    watch = NotificationWatch(SinkTarget("http://unused", window_s=10), now=lambda: now[0])
    watch.observe(4, 0.0)
    assert watch.verdict(0, 0.0).outcome is Outcome.FAIL  # nothing *new* seen yet
    watch.observe(5, 2.0)
    assert watch.verdict(1, 2.0).outcome is Outcome.OK
    assert watch.verdict(2, 12.0).outcome is Outcome.OK
    late = watch.verdict(3, 12.5)
    assert late.outcome is Outcome.FAIL and late.error == "no new notification for 10 s"
    watch.observe(0, 13.0)  # the sink restarted empty: a baseline, not an arrival
    assert watch.verdict(4, 13.0).outcome is Outcome.FAIL
    watch.observe(1, 14.0)
    assert watch.verdict(5, 14.0).outcome is Outcome.OK


def test_notification_watch_reads_the_sink(dashboard):
    state, url = dashboard
    watch = NotificationWatch(SinkTarget(url + "/messages", window_s=60))
    assert watch.invoke(0).error == "no new notification seen yet"
    state.messages.append({"subject": "test run failed"})
    assert watch.invoke(1).outcome is Outcome.OK
    bad = NotificationWatch(SinkTarget(url + "/nothing")).invoke(2)
    assert (bad.outcome, bad.error) == (Outcome.FAIL, "sink: HTTP 404")


# ---- the suite ----------------------------------------------------------------------------------


class FakeStack:
    def __init__(self, ports: dict[str, int], snap: dict[str, Any]) -> None:
        import ipaddress

        from drills.stack.env import Secrets, StackSettings
        from tests.stand_ins import reference_definition, reference_roles

        self.settings = StackSettings("drills-test", ipaddress.IPv4Network("172.30.9.0/24"), {}, Secrets.generate(),
                                      ports=ports, roles=reference_roles())
        self.definition = reference_definition()
        self._snap = snap

    def snapshot(self) -> dict[str, Any]:
        return self._snap


def _info(service: str, ports: dict[int, int]) -> Any:
    from drills.stack.services import ServiceInfo

    return ServiceInfo(service, "id-" + service, f"drills-test-{service}-1", "running", "Up", "healthy", None,
                       ports)


def test_published_prefers_the_ports_picked_at_up_over_what_docker_shows_now():
    from drills.workload.endpoints import group_endpoints, published

    snap = {"pg1": _info("pg1", {5432: 40001}), "pg2": _info("pg2", {5432: 40002}), "pg3": _info("pg3", {})}
    stack = FakeStack({"DRILLS_PORT_PG1_5432": 30001, "DRILLS_PORT_PG3_5432": 30003}, snap)
    assert published(stack, "pg1", 5432) == ("127.0.0.1", 30001)
    assert published(stack, "pg2", 5432) == ("127.0.0.1", 40002)
    assert published(stack, "pg3", 5432) == ("127.0.0.1", 30003)  # stopped now: the fixed port still holds
    assert published(stack, "lb", 8080) is None
    assert group_endpoints(stack, "postgres", 5432) == (("127.0.0.1", 30001), ("127.0.0.1", 40002),
                                                         ("127.0.0.1", 30003))


def test_build_workload_runs_a_scenario_s_signals(dashboard):
    import time

    from drills.files.scenario import Scenario
    from drills.workload.suite import build_workload

    _, url = dashboard
    port = int(url.rsplit(":", 1)[1])
    scenario = Scenario.model_validate({
        "id": "t", "title": "t", "policy": "p",
        "workload": {"http.dashboard": {"rate": 50, "clients": 2}},
        "steps": [{"fault": "kill", "target": "dashboard[0]"}],
        "expectations": [{"checker": "availability", "signal": "http.dashboard", "why": "w"}],
    })
    ops = []
    started = time.monotonic()
    w = build_workload(scenario, FakeStack({"DRILLS_PORT_LB_8080": port}, {}), ops.append, started)
    w.start()
    time.sleep(0.3)
    w.stop()
    elapsed = time.monotonic() - started
    assert w.first_ok() == {"http.dashboard"}
    assert w.drain() is True  # no queue to drain
    assert w.final_reads() == {}
    # The scenario's rate is a ceiling whatever the machine's speed; slots a loaded machine could
    # not serve are skipped and counted, never made up in a burst.
    skipped = w.summary()["http.dashboard"]["skipped_slots"]
    assert len(ops) >= 2 and len(ops) + skipped <= elapsed * 50 + 2
    assert all(o.ok and o.kind == "probe" for o in ops)
    assert {o.process for o in ops} == {0, 1}


def test_build_workload_says_what_is_missing():
    import time

    from drills.core.errors import HarnessError
    from drills.files.scenario import Scenario
    from drills.workload.suite import build_workload

    scenario = Scenario.model_validate({
        "id": "t", "title": "t", "policy": "p", "workload": {"e2e.notify": {"rate": 1}},
        "steps": [{"fault": "kill", "target": "mailer"}],
        "expectations": [{"checker": "availability", "signal": "e2e.notify", "why": "w"}],
    })
    with pytest.raises(HarnessError, match="smtp-sink"):
        build_workload(scenario, FakeStack({}, {}), lambda op: None, time.monotonic())
