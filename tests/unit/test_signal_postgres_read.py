"""postgres.read without a database: where it connects, what it says when a read fails, and how a
scenario file declares it (tests/integration/test_signal_postgres_read.py reads a real stack)."""

from __future__ import annotations

import socket
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from drills.core.history import Outcome
from drills.files.scenario import check_file
from drills.workload.postgres import PostgresTarget
from drills.workload.postgres_read import PostgresReader, ReadTarget, read_error

NODES = PostgresTarget((("127.0.0.1", 5001), ("127.0.0.1", 5002), ("127.0.0.1", 5003)), "s3cret", "app", "app")


@pytest.mark.parametrize(("read_from", "attrs"), [("replica-first", "prefer-standby"), ("replica", "standby")])
def test_reads_go_to_the_replicas_over_every_node_with_the_writer_s_settings(read_from, attrs):
    params = conninfo_to_dict(ReadTarget(NODES, read_from).conninfo())
    assert params["target_session_attrs"] == attrs
    assert (params["host"], params["port"]) == ("127.0.0.1,127.0.0.1,127.0.0.1", "5001,5002,5003")
    writer = conninfo_to_dict(NODES.conninfo())
    for key in ("user", "password", "dbname", "connect_timeout", "keepalives_idle", "tcp_user_timeout"):
        assert params[key] == writer[key], key
    assert params["application_name"] == "drills-read"


def test_a_read_before_the_writer_made_its_table_says_so():
    assert "postgres.write creates it" in read_error(psycopg.errors.UndefinedTable("relation does not exist"))
    assert read_error(psycopg.errors.ReadOnlySqlTransaction("no")) == "ReadOnlySqlTransaction: no"


def test_a_read_nobody_answers_fails_with_no_value():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])  # nothing listens once it is closed
    reader = PostgresReader(ReadTarget(PostgresTarget((("127.0.0.1", port),), "pw", "app", "app")), 0)
    try:
        result = reader.invoke(7)
    finally:
        reader.shutdown()
    assert (result.outcome, result.value) == (Outcome.FAIL, None)
    assert result.error is not None and result.error.startswith("connect: ")


SCENARIO = """\
id: read-demo
title: Reads through the replicas
policy: Reports keep working when the leader fails.
workload:
  postgres.write: {rate: 50}
  postgres.read: {rate: 20}
steps:
  - fault: kill
    target: postgres.leader
expectations:
  - checker: availability
    signal: postgres.read
    max_outage: 5s
    why: a replica serves reads throughout
"""


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    scenario, found = check_file(path)
    assert (scenario is None) == bool(found)
    return [str(p).removeprefix(str(path)) for p in found]


def test_a_scenario_reads_beside_its_writes(tmp_path):
    assert problems(tmp_path, SCENARIO) == []
    assert problems(tmp_path, SCENARIO.replace("{rate: 20}", "{rate: 20, read_from: replica}")) == []


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("  postgres.write: {rate: 50}\n", "",
     ":5:3: workload.postgres.read: postgres.read needs postgres.write beside it: add `postgres.write:` under "
     "`workload:`"),
    ("{rate: 20}", "{rate: 20, read_from: leader}", ":6:40: workload.postgres.read.read_from: must be one of "
                                                    "'replica-first' or 'replica' (got 'leader')"),
    ("{rate: 50}", "{rate: 50, read_from: replica}", ":5:30: workload.postgres.write.read_from: unknown field "
                                                     "'read_from' for postgres.write; it belongs to signal: "
                                                     "postgres.read"),
])
def test_each_mistake_is_located(tmp_path, old, new, expected):
    assert old in SCENARIO
    assert problems(tmp_path, SCENARIO.replace(old, new)) == [expected]
