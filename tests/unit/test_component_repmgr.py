"""The repmgr adapter: repmgr.conf and repmgr.nodes read from recorded answers, who leads from each
member's answer (two primaries are two, never one), readiness, the leader sampler's claims, the
status and effective configuration through a stand-in `Live`, repmgrd's log lines, the spec in the
`components.postgres` union with located errors, and the seams' dispatch."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drills.components import _repmgr, registry, repmgr
from drills.components._patroni_spec import PostgresSpec
from drills.components._postgres_spec import PostgresBase
from drills.components.base import Credential
from drills.core.effective_config import READ, EffectiveConfig, Part
from drills.core.errors import StackError
from drills.files.stack_file import check_stack_file
from drills.spec.assumptions import BROKEN, FACTS, HELD, check, parse
from drills.stack.definition import StackDefinition, StackFile
from drills.stack.log_events import Extractor

ROOT = Path(__file__).resolve().parents[2]

# repmgr.conf as the example's entrypoint writes it (stacks/examples/repmgr/image/entrypoint.sh).
CONF = """\
node_id=2
node_name='ledger-b'
conninfo='host=ledger-db-2 port=5432 user=repmgr dbname=repmgr connect_timeout=2'
data_directory='/var/lib/postgresql/15/main'
# failover
failover='automatic'
promote_command='/usr/lib/postgresql/15/bin/repmgr standby promote -f /etc/repmgr.conf'
monitor_interval_secs=1
reconnect_attempts=3
reconnect_interval = 2   # seconds
connection_check_type='ping'
"""

# repmgr.nodes rows as read from the example after a failover (node_id, name, type, upstream, active, conninfo).
NODES = [
    (1, "ledger-a", "standby", 2, True, "host=ledger-db-1 port=5432 user=repmgr dbname=repmgr connect_timeout=2"),
    (2, "ledger-b", "primary", None, True, "host=ledger-db-2 port=5432 user=repmgr dbname=repmgr connect_timeout=2"),
    (3, "ledger-c", "standby", 2, True, "host=ledger-db-3 port=5432 user=repmgr dbname=repmgr connect_timeout=2"),
]
# pg_stat_replication on that primary, as an SQL_ASCII server hands it to psycopg (bytes).
STREAMS = [(b"ledger-a", b"streaming", 0, 0.018897), (b"ledger-c", b"streaming", 0, 0.009764)]
GROUP = ["ledger-db-1", "ledger-db-2", "ledger-db-3"]


def test_repmgr_conf_is_read_as_repmgr_reads_it():
    conf = _repmgr.parse_conf(CONF)
    assert conf["node_name"] == "ledger-b"
    assert conf["reconnect_interval"] == "2"  # a comment after a bare value is no part of it
    settings, defaulted = _repmgr.failover_settings(conf)
    assert settings["failover"] == "automatic"
    timing = ("reconnect_attempts", "reconnect_interval", "monitor_interval_secs")
    assert tuple(settings[key] for key in timing) == (3, 2, 1)
    assert settings["promote_command"].endswith("standby promote -f /etc/repmgr.conf")
    assert "priority" in defaulted and settings["priority"] == 100  # repmgr's default, said so
    assert "failover" not in defaulted


def test_a_quote_inside_a_value_and_a_line_that_is_no_setting():
    assert _repmgr.parse_conf("location='it''s here'")["location"] == "it's here"
    with pytest.raises(_repmgr.ConfError, match="line 2"):
        _repmgr.parse_conf("failover=manual\nthis is not a setting\n")


@given(st.dictionaries(st.sampled_from(sorted(_repmgr.REPMGR_DEFAULTS)), st.integers(0, 99), min_size=1))
def test_any_number_written_reads_back(values: dict[str, int]):
    text = "\n".join(f"{k}={v}" for k, v in values.items())
    assert _repmgr.parse_conf(text) == {k: str(v) for k, v in values.items()}


def test_settings_one_value_where_nodes_agree_else_per_node():
    assert _repmgr.agreed({"a": {"failover": "automatic", "priority": 100},
                           "b": {"failover": "automatic", "priority": 0}}) == \
        {"failover": "automatic", "priority": {"a": 100, "b": 0}}


def test_nodes_are_placed_by_their_conninfo_host_then_the_stack_file_then_their_name():
    nodes = _repmgr.parse_nodes(NODES)
    assert [n.host for n in nodes] == GROUP and nodes[0].upstream_id == 2
    hosts = {"ledger-db-1": "ledger-db-1", "ledger-db-2": None, "ledger-db-3": "ledger-db-3"}
    placed = _repmgr.place(nodes, hosts, {"ledger-b": "ledger-db-2"}, GROUP)
    assert placed == {"ledger-a": "ledger-db-1", "ledger-b": "ledger-db-2", "ledger-c": "ledger-db-3"}
    assert _repmgr.place(nodes, {}, {}, GROUP) == {"ledger-a": None, "ledger-b": None, "ledger-c": None}
    assert _repmgr.conninfo_host("user=x host='db 1' port=5") == "db 1"


def cluster(answers: Mapping[str, bool | None], streams: Iterable[Any] = STREAMS) -> _repmgr.Cluster:
    places = {"ledger-a": "ledger-db-1", "ledger-b": "ledger-db-2", "ledger-c": "ledger-db-3"}
    said = tuple(_repmgr.Answer(s, v, None if v is not None else "refused") for s, v in answers.items())
    return _repmgr.Cluster(said,
                           tuple(_repmgr.parse_nodes(NODES)), tuple(_repmgr.parse_streams(streams)), places)


def test_ready_when_one_primary_and_every_other_member_streams_from_it():
    ok, detail = _repmgr.readiness(cluster({"ledger-db-1": True, "ledger-db-2": False, "ledger-db-3": True}), GROUP)
    assert ok and detail == "leader ledger-db-2, streaming: ledger-db-1, ledger-db-3"
    ok, detail = _repmgr.readiness(cluster({"ledger-db-1": True, "ledger-db-2": False, "ledger-db-3": True},
                                           STREAMS[:1]), GROUP)
    assert not ok and detail.endswith("not streaming: ledger-db-3")


def test_two_primaries_are_a_split_brain_never_a_leader():
    c = cluster({"ledger-db-1": False, "ledger-db-2": False, "ledger-db-3": True})
    assert c.leader is None and _repmgr.primaries(c.answers) == ["ledger-db-1", "ledger-db-2"]
    ok, detail = _repmgr.readiness(c, GROUP)
    assert not ok and detail == "primaries: ledger-db-1, ledger-db-2"


@given(st.dictionaries(st.sampled_from(GROUP), st.sampled_from([True, False, None]), min_size=1))
def test_the_leader_is_the_one_member_that_says_it_is_a_primary(answers: dict[str, bool | None]):
    c = cluster(answers)
    said = sorted(s for s, v in answers.items() if v is False)
    assert _repmgr.primaries(c.answers) == said
    assert c.leader == (said[0] if len(said) == 1 else None)
    assert not set(_repmgr.standbys(c.answers)) & set(said)


# ---- the adapter through a stand-in Live (recorded SQL answers instead of psycopg) ----------------------------


class FakeLive:
    project, network_name = "p", "n"

    def __init__(self, answers: Mapping[str, bool | None], conf: str = CONF) -> None:
        self.answers, self.conf = answers, conf
        self.client = self

    # docker's client.containers.get(id).exec_run(["cat", path])
    @property
    def containers(self) -> Any:
        return self

    def get(self, container_id: str) -> Any:
        return self

    def exec_run(self, argv: list[str]) -> Any:
        return type("Done", (), {"exit_code": 0, "output": self.conf.encode()})()

    def snapshot(self) -> dict[str, Any]:
        return {s: type("Node", (), {"service": s, "container_id": s, "state": "running"})() for s in GROUP}

    def defined_services(self) -> tuple[str, ...]:
        return tuple(GROUP)

    def members(self, group: str, among: Any = None) -> list[str]:
        return list(GROUP)

    def reach(self, service: str, port: int, snap: Any = None) -> tuple[str, int] | None:
        return (service, port)

    def service_of_host(self, host: str, snap: Any = None) -> str | None:
        return host if host in GROUP else None

    def credential(self, ref: Credential) -> str:
        return "secret"


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """`repmgr._query` answering from `answers` (service -> in recovery), NODES and STREAMS."""
    state: dict[str, Any] = {"answers": {}}

    def query(endpoint: tuple[str, int], user: str, password: str, dbname: str, sql: str, *,
              params: Any = None, timeout_s: int = 2) -> list[tuple[Any, ...]]:
        service = endpoint[0]
        if "pg_is_in_recovery" in sql:
            value = state["answers"][service]
            if value is None:
                raise OSError("connection refused")
            return [(value,)]
        if "repmgr.nodes" in sql:
            assert dbname == "repmgr"
            return list(NODES)
        if "pg_stat_replication" in sql:
            return list(STREAMS)
        return [("synchronous_commit", "on", ""), ("wal_level", "replica", "")]

    monkeypatch.setattr(repmgr, "_query", query)
    return state


def spec() -> repmgr.RepmgrSpec:
    return repmgr.RepmgrSpec(adapter="repmgr", database="ledger")


def test_roles_ready_status_and_effective_from_recorded_answers(recorded: dict[str, Any]):
    recorded["answers"] = answers = {"ledger-db-1": True, "ledger-db-2": False, "ledger-db-3": True}
    live: Any = FakeLive(answers)
    assert repmgr.resolve(spec(), live, "leader", None, GROUP) == ["ledger-db-2"]
    assert repmgr.resolve(spec(), live, "replica", None, GROUP) == ["ledger-db-1", "ledger-db-3"]
    assert repmgr.ready(spec(), live, False).ready
    view = repmgr.status(spec(), live)
    assert view.error is None and view.data["leader"] == "ledger-b" and view.data["leader_service"] == "ledger-db-2"
    assert [m["upstream"] for m in view.data["members"]] == ["ledger-b", None, "ledger-b"]
    part = repmgr.read_effective(spec(), live, 2.0)
    assert part.status == READ and part.settings["repmgr"]["reconnect_attempts"] == 3
    assert part.settings["pg_settings"] == {"synchronous_commit": "on", "wal_level": "replica"}
    assert repmgr.describe(part) == ("postgres: repmgr, failover automatic after 3 x 2 s (monitor every 1 s); "
                                     "synchronous_commit on, wal_level replica")


def test_no_single_leader_is_a_stack_error_naming_who_claims(recorded: dict[str, Any]):
    recorded["answers"] = answers = {"ledger-db-1": False, "ledger-db-2": False, "ledger-db-3": None}
    with pytest.raises(StackError, match="no single leader right now \\(primaries ledger-db-1, ledger-db-2\\)"):
        repmgr.resolve(spec(), FakeLive(answers), "leader", None, GROUP)  # type: ignore[arg-type]
    view = repmgr.status(spec(), FakeLive(answers))  # type: ignore[arg-type]
    assert view.error == "primaries: ledger-db-1, ledger-db-2 (split brain)"


def test_the_sampler_sees_every_member_that_claims_and_none_that_does_not_answer(monkeypatch: pytest.MonkeyPatch):
    claims = {"ledger-db-1": True, "ledger-db-2": True, "ledger-db-3": False}
    rounds = repmgr.Rounds(spec(), FakeLive(claims))  # type: ignore[arg-type]
    monkeypatch.setattr(rounds, "_claims", lambda service: claims[service])
    try:
        reading = rounds.read()["postgres"]
    finally:
        rounds.close()
    assert reading.leaders == ["ledger-db-1", "ledger-db-2"]  # a split brain, as the checker must see it


# ---- repmgrd's log ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("line", "kind", "subject"), repmgr.SAMPLES)
def test_repmgrd_lines_are_events(line: str, kind: str, subject: str):
    matched = next((p for p in repmgr.LOGS if p.regex.search(line)), None)
    assert matched is not None and matched.kind == kind
    found = matched.regex.search(line)
    assert found is not None and (found.group(matched.subject) if matched.subject else "") == subject
    event = Extractor("ledger-db-2", origin=0.0).feed(f"2026-12-05T09:13:53.000000000Z {line}")
    assert event is not None and event.kind == kind


# ---- the spec in the union, the facts, the seams --------------------------------------------------------


def stack_file(tmp_path: Path, postgres: str) -> Path:
    (tmp_path / "compose.yaml").write_text("services: {db: {image: x}}\n")
    path = tmp_path / "stack.yaml"
    path.write_text(f"stack: s\ncompose: {{files: [compose.yaml]}}\ncomponents:\n  postgres:\n{postgres}")
    return path


def test_the_postgres_entry_is_told_by_its_adapter(tmp_path: Path):
    definition, problems = check_stack_file(stack_file(tmp_path, "    adapter: repmgr\n    repmgr_db: rm\n"))
    assert not problems and definition is not None
    pg = definition.component("postgres", PostgresBase)
    assert isinstance(pg, repmgr.RepmgrSpec) and pg.adapter == "repmgr"
    bound = definition.bound().get("postgres")
    assert bound is not None and bound.adapter is registry.adapter_of("repmgr")
    with pytest.raises(StackError, match="adapter repmgr"):
        definition.component("postgres", PostgresSpec)
    patroni, _ = check_stack_file(stack_file(tmp_path, "    adapter: patroni\n"))
    assert patroni is not None and patroni.bound().get("postgres") is None
    assert isinstance(patroni.component("postgres", PostgresSpec), PostgresSpec)


def test_a_wrong_postgres_entry_is_located_with_what_to_write(tmp_path: Path):
    _, problems = check_stack_file(stack_file(tmp_path, "    adapter: repmgrd\n"))
    assert len(problems) == 1 and problems[0].line == 5
    assert "unknown adapter 'repmgrd'" in problems[0].message and "repmgr" in problems[0].message
    _, problems = check_stack_file(stack_file(tmp_path, "    adapter: repmgr\n    rest_port: 8008\n"))
    assert len(problems) == 1 and problems[0].line == 6
    assert problems[0].message == "unknown field 'rest_port' for this adapter; it belongs to adapter: patroni"


def test_the_adapters_facts_are_ones_assumes_may_name():
    assert set(repmgr.FACTS) <= set(FACTS)


def effective(settings: dict[str, Any]) -> EffectiveConfig:
    return EffectiveConfig({"postgres": Part(READ, settings=settings)})


def test_a_patroni_fact_on_a_repmgr_stack_is_broken_the_why_names_a_mechanism_it_does_not_run():
    conf = effective({"adapter": "repmgr", "repmgr": {"reconnect_attempts": 3, "reconnect_interval": 2},
                      "pg_settings": {"synchronous_commit": "on"}})
    ttl = check(parse("postgres.patroni.ttl <= 10"), conf)
    assert ttl.status == BROKEN
    assert ttl.text == "this bound assumes postgres.patroni.ttl <= 10; the stack runs repmgr, not patroni"
    assert check(parse("postgres.patroni.synchronous_mode == true"), conf).status == BROKEN
    # Patroni's `postgresql:` section is Patroni's too: the stack runs repmgr, not "postgresql"
    rewind = check(parse("postgres.postgresql.use_pg_rewind == true"), conf)
    assert rewind.status == BROKEN and rewind.text.endswith("the stack runs repmgr, not patroni")
    assert check(parse("postgres.repmgr.reconnect_attempts <= 3"), conf).status == HELD
    assert check(parse("postgres.repmgr.reconnect_interval < 2"), conf).status == BROKEN
    assert check(parse("postgres.synchronous_commit == on"), conf).status == HELD  # shared with Patroni's


def test_the_example_has_no_restore_so_its_restore_drills_say_why():
    from drills.run.stack_fit import no_backups

    definition = StackDefinition(ROOT / "stacks/examples/repmgr/stack.yaml",
                                 StackFile.model_validate({"stack": "s", "compose": {"files": ["c.yaml"]},
                                                           "components": {"postgres": {"adapter": "repmgr"}}}))
    assert no_backups(definition.bound(), "postgres") == "repmgr"
    assert no_backups({}, "postgres") is None


# ---- the example's files ---------------------------------------------------------------------------------


EXAMPLE = ROOT / "stacks" / "examples" / "repmgr"


def test_the_example_spells_no_drills_variable_and_publishes_no_port():
    from ruamel.yaml import YAML

    # The stack's own files (its stack file is Drills' and may name what they do not).
    for path in [EXAMPLE / "compose.yaml", *(EXAMPLE / "image").iterdir()]:
        assert not re.search(r"DRILLS_", path.read_text()), path
    compose = YAML(typ="safe").load((EXAMPLE / "compose.yaml").read_text())
    for name, service in compose["services"].items():
        assert "ports" not in service, name
        assert not any(str(k).startswith("io.drills") for k in (service.get("labels") or {})), name


def test_the_examples_stack_file_is_valid_and_names_repmgr():
    definition, problems = check_stack_file(EXAMPLE / "stack.yaml")
    assert not problems and definition is not None
    pg = definition.component("postgres", PostgresBase)
    assert isinstance(pg, repmgr.RepmgrSpec) and pg.database == "ledger"
    assert pg.login("superuser").user == "dba" and not definition.spec.backups
