"""PostgreSQL backups and restores use what the stack file says, else what the live system says,
never the reference stack's names: pg_dump/pg_restore as the superuser login, pg_basebackup as the
replication login, the data directory's owner as the OS user, the volume mounted over the data
directory, and Patroni's keys under `<namespace><scope>/`, deleted through etcd's v3 gateway."""

from __future__ import annotations

import base64
import http.server
import ipaddress
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drills.backup.model import Backup
from drills.components import _etcd_keys, _patroni_rest
from drills.components import _patroni_backup as postgres
from drills.core.errors import FaultError
from drills.stack.definition import RoleMap, StackDefinition
from drills.stack.env import Secrets, StackSettings
from drills.stack.services import ServiceInfo
from tests.stand_ins import offline_credential, reference_definition

PROJECT = "drills-test"
DATA_DIR = "/var/lib/postgresql/15/main"  # Debian's
ORDERS = {"database": "orders",
          "users": {"superuser": {"user": "dba", "password": {"env": "ORDERS_DBA_PASSWORD"}},
                    "replication": {"user": "repl", "password": {"env": "ORDERS_REPL_PASSWORD"}},
                    "app": {"user": "orders_app", "password": {"env": "ORDERS_APP_PASSWORD"}}},
          "patroni": {"namespace": "/db/"}}


@pytest.fixture(autouse=True)
def passwords(monkeypatch):
    for name, value in (("ORDERS_DBA_PASSWORD", "dba-pw"), ("ORDERS_REPL_PASSWORD", "repl-pw"),
                        ("ORDERS_APP_PASSWORD", "app-pw")):
        monkeypatch.setenv(name, value)


class Node(SimpleNamespace):
    """A container of the run, as docker-py gives it."""

    def __init__(self, service: str, *, env: tuple[str, ...] = (), mounts: list[dict[str, Any]] | None = None) -> None:
        super().__init__(name=f"{PROJECT}-{service}-1", id="id-" + service, events=[],
                         labels={"com.docker.compose.project": PROJECT, "com.docker.compose.service": service},
                         attrs={"Config": {"Image": "orders/postgres:15", "Env": list(env)},
                                "Mounts": mounts or []})

    def exec_run(self, argv: list[str], **kw: Any) -> Any:
        self.events.append(("exec", argv, kw.get("user")))
        return SimpleNamespace(exit_code=0, output=b"")

    def stop(self, timeout: int = 10) -> None:
        self.events.append(("stop",))

    def start(self) -> None:
        self.events.append(("start",))

    def remove(self, **kw: Any) -> None:
        self.events.append(("remove",))


class Stack:
    """The stack as a backup sees it: its stack file, settings, containers by role, published ports."""

    project = PROJECT

    def __init__(self, definition: StackDefinition, *, ports: dict[str, int] | None = None,
                 nodes: dict[str, list[Node]] | None = None) -> None:
        roles = RoleMap.build({"postgres": ["db-1", "db-2"], "etcd": ["dcs-1", "dcs-2"]}, {})
        self.settings = StackSettings(PROJECT, ipaddress.IPv4Network("172.30.9.0/24"), {}, Secrets.generate(),
                                      ports=ports or {}, roles=roles)
        self.definition = definition
        self.nodes = nodes or {}
        self.composed: list[tuple[str, ...]] = []
        self.helpers: list[dict[str, Any]] = []
        self.client = SimpleNamespace(containers=SimpleNamespace(run=self._helper))

    def _helper(self, image: str, command: list[str], **kw: Any) -> Node:
        self.helpers.append({"image": image, **kw})
        return Node(f"helper{len(self.helpers)}")

    def credential(self, ref: Any) -> str:
        return offline_credential(self, ref)

    def snapshot(self) -> dict[str, ServiceInfo]:
        return {s: ServiceInfo(s, "id-" + s, f"{PROJECT}-{s}-1", "running", "Up", None, None)
                for s in ("db-1", "db-2", "dcs-1", "dcs-2")}

    def defined_services(self) -> tuple[str, ...]:
        return ("db-1", "db-2", "dcs-1", "dcs-2", "pgproxy")

    def containers(self, role: str) -> list[Node]:
        return self.nodes.get(role, [])

    def compose(self, *args: str) -> None:
        self.composed.append(args)


class Conn:
    """A psycopg connection answering what the backups ask."""

    answers: ClassVar[dict[str, tuple[str, ...]]] = {
        "SHOW data_directory": (DATA_DIR,), "SELECT pg_export_snapshot()": ("00000003-0000001B-1",),
        "SELECT pg_get_wal_replay_pause_state()": ("paused",)}

    def __init__(self) -> None:
        self.autocommit, self.isolation_level, self.read_only = True, None, False
        self.asked: list[str] = []

    def __enter__(self) -> Conn:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def execute(self, sql: str, params: Any = None) -> Any:
        self.asked.append(sql)
        row = self.answers.get(sql, (3, 2, "d41d8cd98f00b204e9800998ecf8427e"))
        return SimpleNamespace(fetchone=lambda: row)

    def rollback(self) -> None:
        pass


@pytest.fixture
def tools(monkeypatch) -> list[dict[str, Any]]:
    """Every tool run in a container: its argv, OS user and environment (stat answers `postgres`)."""
    ran: list[dict[str, Any]] = []

    def run(container: Any, argv: list[str], *, user: str, env: Any = None) -> str:
        ran.append({"on": container.name, "argv": list(argv), "user": user, "env": dict(env or {})})
        if argv[0] == "stat":
            return "999:999\n" if "%u:%g" in argv else "postgres\n"
        if argv[:2] == ["sh", "-c"] and "id -u" in argv[2]:
            return "999\n999\n"
        return ""

    def stream(container: Any, argv: list[str], dest: Path, *, user: str, env: Any = None) -> int:
        ran.append({"on": container.name, "argv": list(argv), "user": user, "env": dict(env or {})})
        return 100

    monkeypatch.setattr(postgres.dockerio, "run", run)
    monkeypatch.setattr(postgres.dockerio, "stream_to_file", stream)
    monkeypatch.setattr(postgres.dockerio, "fetch_file", lambda *a: 10)
    monkeypatch.setattr(postgres.dockerio, "put_file", lambda *a, **kw: ran.append({"put_file": kw}))
    monkeypatch.setattr(postgres.dockerio, "put_tar", lambda c, tar, d: ran.append({"put_tar": d, "on": c.name}))
    monkeypatch.setattr(postgres, "connect", lambda stack, service, **kw: Conn())
    return ran


def of(ran: list[dict[str, Any]], tool: str) -> dict[str, Any]:
    [found] = [r for r in ran if r.get("argv", [""])[0] == tool]
    return found


def clock() -> float:
    return 1.0


# ---- the tools' logins and OS user --------------------------------------------------------------


def test_pg_dump_logs_in_as_the_superuser_and_runs_as_the_data_directory_s_owner(tools, tmp_path):
    stack = Stack(reference_definition(postgres=ORDERS), nodes={"postgres.leader": [Node("db-1")]})
    backup = postgres.dump(stack, "b1", tmp_path, clock)  # type: ignore[arg-type]
    assert of(tools, "stat")["argv"] == ["stat", "-c", "%U", DATA_DIR]  # SHOW data_directory, then its owner
    dump = of(tools, "pg_dump")
    assert dump["argv"] == ["pg_dump", "-h", "127.0.0.1", "-p", "5432", "-U", "dba", "-Fc", "-d", "orders",
                            "--snapshot=00000003-0000001B-1", "-f", "/tmp/drills-b1.dump"]
    assert (dump["user"], dump["env"]) == ("postgres", {"PGPASSWORD": "dba-pw"})
    assert (backup.rows, backup.max_seq, backup.source) == (3, 2, "db-1")


def test_the_stack_file_s_os_user_is_used_without_asking(tools, tmp_path):
    stack = Stack(reference_definition(postgres={**ORDERS, "os_user": "pgowner"}),
                  nodes={"postgres.leader": [Node("db-1")]})
    postgres.dump(stack, "b1", tmp_path, clock)  # type: ignore[arg-type]
    assert [r for r in tools if r.get("argv", [""])[0] == "stat"] == []
    assert of(tools, "pg_dump")["user"] == "pgowner"


def test_pg_basebackup_logs_in_as_the_replication_user_and_the_snapshot_keeps_its_data_directory(tools, tmp_path):
    stack = Stack(reference_definition(postgres=ORDERS), nodes={"postgres.replica[0]": [Node("db-2")]})
    backup = postgres.snapshot(stack, "b2", tmp_path, clock)  # type: ignore[arg-type]
    base = of(tools, "pg_basebackup")
    assert base["argv"] == ["pg_basebackup", "-h", "127.0.0.1", "-p", "5432", "-U", "repl", "-D", "-", "-Ft", "-X",
                            "fetch", "-c", "fast", "--no-manifest"]
    assert (base["user"], base["env"]) == ("postgres", {"PGPASSWORD": "repl-pw"})
    assert backup.source_path == DATA_DIR


def test_the_reference_stack_keeps_its_names(tools, tmp_path):
    """stacks/reference/stack.yaml names no users: postgres and replicator with Drills' passwords."""
    stack = Stack(reference_definition(),
                  nodes={"postgres.leader": [Node("pg1")], "postgres.replica[0]": [Node("pg2")]})
    postgres.dump(stack, "b1", tmp_path, clock)  # type: ignore[arg-type]
    postgres.snapshot(stack, "b2", tmp_path, clock)  # type: ignore[arg-type]
    secrets = stack.settings.secrets
    assert of(tools, "pg_dump")["argv"][5:7] == ["-U", "postgres"]
    assert of(tools, "pg_dump")["env"] == {"PGPASSWORD": secrets.pg_superuser_password}
    assert of(tools, "pg_basebackup")["argv"][5:7] == ["-U", "replicator"]
    assert of(tools, "pg_basebackup")["env"] == {"PGPASSWORD": secrets.pg_replication_password}


def test_pg_restore_logs_in_as_the_superuser(tools, monkeypatch, tmp_path):
    leader = Node("db-1")
    stack = Stack(reference_definition(postgres={**ORDERS, "patroni": {"namespace": "/db/", "scope": "orders"}}),
                  nodes={"postgres": [leader, Node("db-2")]})
    monkeypatch.setattr(postgres, "forget_cluster", lambda stack, scope=None: "orders")
    monkeypatch.setattr(postgres, "wait_leader", lambda stack, timeout_s: leader)
    monkeypatch.setattr(postgres, "_verified", lambda *a, **kw: "verified")
    backup = Backup("b1", "postgres", "dump", 0.0, 1.0, True, location=str(tmp_path / "b1.dump"))
    assert postgres.restore_dump(stack, backup, 30.0, clock) == "verified"  # type: ignore[arg-type]
    restore = of(tools, "pg_restore")
    assert restore["argv"][:7] == ["pg_restore", "-h", "127.0.0.1", "-p", "5432", "-U", "dba"]
    assert restore["argv"][-3:] == ["-d", "orders", "/tmp/drills-restore.dump"]
    assert (restore["user"], restore["env"]) == ("postgres", {"PGPASSWORD": "dba-pw"})
    assert {"uid": 999, "gid": 999} in [r["put_file"] for r in tools if "put_file" in r]


# ---- the disk a snapshot goes back to ------------------------------------------------------------


def volume(name: str, destination: str) -> dict[str, Any]:
    return {"Type": "volume", "Name": name, "Destination": destination, "Source": f"/var/lib/docker/volumes/{name}"}


def test_the_volume_is_the_one_mounted_over_the_data_directory():
    mounts = [volume("x_logs", "/var/log/postgresql"), volume("x_db1", "/var/lib/postgresql"),
              volume("x_run", "/var/run/postgresql")]
    assert postgres.data_mount(mounts, DATA_DIR) == ("x_db1", "/var/lib/postgresql")
    assert postgres.data_mount([volume("x_db1", DATA_DIR)], DATA_DIR) == ("x_db1", DATA_DIR)  # the mount point itself
    # the reference stack: PGDATA a sub-directory of the volume
    assert postgres.data_mount([volume("x_pg1", "/var/lib/postgresql/data")], "/var/lib/postgresql/data/pgdata") == \
        ("x_pg1", "/var/lib/postgresql/data")
    # the deepest mount over it wins; a sibling whose name merely starts the same is not over it
    nested = [volume("outer", "/var/lib"), volume("inner", "/var/lib/postgresql/15"),
              volume("near", "/var/lib/postgresql/1")]
    assert postgres.data_mount(nested, DATA_DIR) == ("inner", "/var/lib/postgresql/15")


def test_a_data_directory_on_no_volume_or_a_bind_mount_is_refused():
    with pytest.raises(FaultError, match="mounts no volume over its data directory"):
        postgres.data_mount([volume("x_other", "/srv")], DATA_DIR)
    bind = {"Type": "bind", "Source": "/home/me/pgdata", "Destination": "/var/lib/postgresql"}
    with pytest.raises(FaultError, match="bind mount of /home/me/pgdata: Drills restores only into the run's own"):
        postgres.data_mount([bind], DATA_DIR)


@given(st.lists(st.lists(st.sampled_from(["var", "lib", "pg", "15", "main", "data"]), min_size=1, max_size=4),
                min_size=1, max_size=5),
       st.lists(st.sampled_from(["var", "lib", "pg", "15", "main", "data"]), min_size=1, max_size=5))
def test_the_chosen_mount_is_the_deepest_ancestor(destinations: list[list[str]], data: list[str]) -> None:
    mounts = [volume(f"v{i}", "/" + "/".join(parts)) for i, parts in enumerate(destinations)]
    data_dir = "/" + "/".join(data)
    over = [m for m in mounts if data[:len(m["Destination"].split("/")) - 1] == m["Destination"].split("/")[1:]]
    if not over:
        with pytest.raises(FaultError):
            postgres.data_mount(mounts, data_dir)
        return
    _, destination = postgres.data_mount(mounts, data_dir)
    assert destination == max((m["Destination"] for m in over), key=len)


def test_a_snapshot_goes_back_into_the_data_directory_on_its_volume(tools, monkeypatch, tmp_path):
    mount = [volume(f"{PROJECT}_db1-data", "/var/lib/postgresql")]
    first = Node("db-1", mounts=mount)
    second = Node("db-2", mounts=[volume(f"{PROJECT}_db2-data", "/var/lib/postgresql")])
    stack = Stack(reference_definition(postgres={**ORDERS, "patroni": {"namespace": "/db/", "scope": "orders"}}),
                  nodes={"postgres": [second, first]})
    forgotten = []
    monkeypatch.setattr(postgres, "forget_cluster", lambda stack, scope=None: forgotten.append(scope))
    monkeypatch.setattr(postgres, "wait_leader", lambda stack, timeout_s: first)
    monkeypatch.setattr(postgres, "_verified", lambda *a, **kw: "verified")
    backup = Backup("b2", "postgres", "snapshot", 0.0, 1.0, True, location=str(tmp_path / "b2.base.tar"),
                    source_path=DATA_DIR)
    assert postgres.restore_snapshot(stack, backup, 30.0, clock) == "verified"  # type: ignore[arg-type]
    assert forgotten == ["orders"]
    assert [h["volumes"] for h in stack.helpers] == [  # db-1 first: its snapshot's files say their owner
        {f"{PROJECT}_db1-data": {"bind": "/var/lib/postgresql", "mode": "rw"}},
        {f"{PROJECT}_db2-data": {"bind": "/var/lib/postgresql", "mode": "rw"}}]
    # The nodes' image, never its entrypoint: the example's refuses to start without its secrets.
    assert all(h["entrypoint"] == ["sleep"] for h in stack.helpers)
    first_helper = [r for r in tools if r.get("on") == "drills-test-helper1-1"]
    assert first_helper[0]["argv"][-1] == DATA_DIR and "find" in first_helper[0]["argv"][2]
    assert first_helper[1] == {"put_tar": DATA_DIR, "on": "drills-test-helper1-1"}
    assert first_helper[2]["argv"] == ["stat", "-c", "%u:%g", f"{DATA_DIR}/PG_VERSION"]
    assert first_helper[3]["argv"][-2:] == [DATA_DIR, "999:999"] and "chown" in first_helper[3]["argv"][2]
    second_helper = [r for r in tools if r.get("on") == "drills-test-helper2-1"]
    assert second_helper[-1]["argv"][-2:] == [DATA_DIR, "999:999"]
    assert all(r.get("user", "root") == "root" for r in first_helper + second_helper)


def test_a_snapshot_that_does_not_say_its_data_directory_asks_for_data_dir_before_anything(tools, tmp_path):
    stack = Stack(reference_definition(postgres=ORDERS), nodes={"postgres": [Node("db-1")]})
    backup = Backup("b2", "postgres", "snapshot", 0.0, 1.0, True, location=str(tmp_path / "b2.base.tar"))
    with pytest.raises(FaultError, match="data directory it was taken from") as exc:
        postgres.restore_snapshot(stack, backup, 30.0, clock)  # type: ignore[arg-type]
    assert "data_dir:" in str(exc.value) and stack.composed == []


# ---- Patroni's scope and etcd's keys --------------------------------------------------------------


class Answers(http.server.BaseHTTPRequestHandler):
    routes: ClassVar[dict[tuple[str, str], Any]] = {}
    seen: ClassVar[list[tuple[str, str, Any]]] = []

    def _answer(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        type(self).seen.append((method, self.path, body))
        doc = type(self).routes.get((method, self.path))
        data = json.dumps(doc).encode()
        self.send_response(200 if doc is not None else 404)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[int, type[Answers]]]:
    handler = type("Handler", (Answers,), {"routes": {}, "seen": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1], handler
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_the_deleterange_body_covers_exactly_the_prefix():
    body = _etcd_keys.deleterange_body("/db/orders/")
    assert base64.b64decode(body["key"]) == b"/db/orders/"
    assert base64.b64decode(body["range_end"]) == b"/db/orders0"  # '/' + 1: every key under the prefix, no other
    assert _etcd_keys.delete_argv(2379, "/db/orders/")[-1] == json.dumps(body)


@given(st.text(st.characters(min_codepoint=33, max_codepoint=0x2FF), min_size=1, max_size=20),
       st.text(st.characters(min_codepoint=33, max_codepoint=0x2FF), max_size=10))
def test_a_key_is_in_the_range_if_and_only_if_it_starts_with_the_prefix(prefix: str, rest: str) -> None:
    end = _etcd_keys.range_end(prefix)
    key = (prefix + rest).encode()
    assert prefix.encode() <= key < end  # etcd compares keys as bytes
    other = rest.encode()
    assert (prefix.encode() <= other < end) == other.startswith(prefix.encode())


def test_the_keys_are_deleted_through_etcd_s_gateway_from_the_host(server):
    port, answers = server
    answers.routes[("POST", "/v3/kv/deleterange")] = {"header": {"revision": "9"}, "deleted": "4"}
    stack = Stack(reference_definition(postgres={**ORDERS, "patroni": {"namespace": "/db/", "scope": "orders"}}),
                  ports={"DRILLS_PORT_DCS_1_2379": port}, nodes={"etcd": [Node("dcs-1")]})
    assert postgres.forget_cluster(stack) == "orders"  # type: ignore[arg-type]
    assert answers.seen == [("POST", "/v3/kv/deleterange", _etcd_keys.deleterange_body("/db/orders/"))]
    assert _etcd_keys.delete_prefix(("127.0.0.1", port), "/db/orders/") == 4


def test_without_a_member_the_host_reaches_the_keys_are_deleted_from_inside_one(tools):
    stack = Stack(reference_definition(postgres={**ORDERS, "patroni": {"namespace": "/db/", "scope": "orders"}}),
                  nodes={"etcd": [Node("dcs-1")]})
    postgres.forget_cluster(stack)  # type: ignore[arg-type]
    assert of(tools, "curl")["argv"] == _etcd_keys.delete_argv(2379, "/db/orders/")
    assert of(tools, "curl")["user"] == "root"


def test_the_scope_is_the_stack_file_s_else_patroni_s_else_its_environment(server):
    port, answers = server
    answers.routes[("GET", "/patroni")] = {"state": "running", "patroni": {"version": "3.0.2", "scope": "orders"}}
    asked = Stack(reference_definition(postgres=ORDERS), ports={"DRILLS_PORT_DB_2_8008": port})
    assert postgres.patroni_scope(asked) == "orders"  # type: ignore[arg-type]
    said = Stack(reference_definition(postgres={**ORDERS, "patroni": {"scope": "given"}}))
    assert postgres.patroni_scope(said) == "given"  # type: ignore[arg-type]
    reference = Stack(reference_definition(), nodes={"postgres": [Node("pg1", env=("DRILLS_PATRONI_SCOPE=drills",))]})
    assert postgres.patroni_scope(reference, wait_s=0.1) == "drills"  # type: ignore[arg-type]
    nothing = Stack(reference_definition(postgres=ORDERS), nodes={"postgres": [Node("db-1")]})
    with pytest.raises(FaultError, match=r"(?s)name its scope.*patroni: \{scope:"):
        postgres.patroni_scope(nothing, wait_s=0.1)  # type: ignore[arg-type]


def test_a_patroni_answer_without_a_scope_is_none():
    assert _patroni_rest.scope_of({"patroni": {"version": "2.0.0"}}) is None
    assert _patroni_rest.scope_of({"patroni": {"version": "3.0.2", "scope": "orders"}}) == "orders"
    assert _patroni_rest.scope_of(["not", "a", "document"]) is None
