"""Role names: parsing and selection (no containers)."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drills.components import registry
from drills.core.errors import StackError
from drills.core.roles import MAX_INDEX_DIGITS, RoleGrammar, RoleRef, parse_role
from drills.spec.types import ROLE_PATTERN
from drills.stack.definition import ROLE_LABEL, RoleMap
from drills.stack.roles import pick

SERVICES = ["etcd1", "etcd2", "etcd3", "pg1", "pg2", "pg3", "rabbit1", "rabbit2", "rabbit3", "lb",
            "dashboard2", "dashboard1", "dashboard10", "worker1", "mongo-init"]


@pytest.mark.parametrize(("text", "ref"), [
    ("postgres.leader", RoleRef("postgres", "leader")),
    ("postgres.replica[1]", RoleRef("postgres", "replica", 1)),
    ("postgres.*", RoleRef("postgres")),
    ("postgres", RoleRef("postgres")),
    ("rabbitmq.leader@notifications", RoleRef("rabbitmq", "leader@notifications")),
    ("mongo.primary", RoleRef("mongo", "primary")),
    ("dashboard[0]", RoleRef("dashboard", "*", 0)),
    ("clients", RoleRef("clients")),
    (" pg2 ", RoleRef("pg2")),
])
def test_parse(text, ref):
    assert parse_role(text) == ref
    assert parse_role(text, registry.grammar()) == ref == registry.role(text)


@pytest.mark.parametrize(("text", "message"), [
    ("postgres.primary", "leader, replica"),
    ("mongo.leader", "primary, secondary"),
    ("dashboard.leader", "has no roles"),
    ("postgres.leader@q", "only rabbitmq"),
    ("Postgres", "not a role"),
    ("postgres.[0]", "not a role"),
    ("", "not a role"),
])
def test_parse_errors_say_what_is_allowed(text, message):
    with pytest.raises(StackError, match=message):
        registry.role(text)


def test_without_a_grammar_only_the_syntax_is_checked():
    # what reads a role already read from a scenario (the runner, the topology) needs no grammar
    assert parse_role("postgres.primary") == RoleRef("postgres", "primary")
    assert parse_role("dashboard.leader@q") == RoleRef("dashboard", "leader@q")
    with pytest.raises(StackError, match="not a role") as err:
        parse_role("Postgres")
    assert err.value.hint == "roles look like dashboard[0]"


def test_the_grammar_is_the_one_passed():
    grammar = {"db": RoleGrammar(frozenset({"primary", "standby"}), frozenset({"primary"})),
               "bus": RoleGrammar(frozenset({"leader"}), frozenset({"leader"}), qualifier="stream")}
    assert parse_role("bus.leader@orders", grammar).base_selector == "leader"
    with pytest.raises(StackError, match=r"db has the roles primary, standby \(or \*\)"):
        parse_role("db.leader", grammar)
    with pytest.raises(StackError, match=r"only bus roles name a stream \(leader@STREAM\)"):
        parse_role("db.primary@x", grammar)
    with pytest.raises(StackError, match="not a role") as err:
        parse_role("DB", grammar)
    assert err.value.hint == "roles look like db.primary, bus.*, dashboard[0]"
    with pytest.raises(StackError, match="not a role") as err:
        registry.role("Postgres")
    assert err.value.hint == "roles look like postgres.leader, rabbitmq.*, dashboard[0]"


def test_role_text_round_trips():
    for text in ("postgres.leader", "postgres.replica[1]", "rabbitmq.follower@notifications", "dashboard[0]", "etcd"):
        assert str(parse_role(text)) == text


def test_rabbitmq_roles_default_to_the_scheduled_runs_queue():
    assert parse_role("rabbitmq.leader").queue == "scheduled-runs"
    assert parse_role("rabbitmq.leader@notifications").queue == "notifications"
    assert parse_role("rabbitmq.leader@notifications").base_selector == "leader"


REFERENCE_MAP = {"postgres": ["pg3", "pg1", "pg2"], "rabbitmq": ["rabbit1", "rabbit2", "rabbit3"],
                 "mongo": ["mongo1", "mongo2", "mongo3"], "dashboard": ["dashboard1", "dashboard2"]}


def test_roles_come_from_the_stack_files_map_in_service_order():
    roles = RoleMap.build(REFERENCE_MAP, {})
    assert roles.members("postgres", SERVICES) == ["pg1", "pg2", "pg3"]
    assert roles.members("rabbitmq", SERVICES) == ["rabbit1", "rabbit2", "rabbit3"]
    assert roles.members("mongo", SERVICES) == []  # mapped, but not defined here (profile off): absent
    assert roles.members("dashboard", SERVICES) == ["dashboard1", "dashboard2"]  # the map, not the stem
    assert roles.members("lb", SERVICES) == ["lb"]  # a service by its name
    assert roles.members("pg2", SERVICES) == ["pg2"]
    assert roles.members("worker", SERVICES) == ["worker1"]  # a stem, where the map says nothing
    assert roles.members("nothing", SERVICES) == []


def test_roles_come_from_labels_too_and_a_service_may_play_several():
    labels = {"db-a": {ROLE_LABEL: "postgres"}, "db-b": {ROLE_LABEL: "postgres, primaries"},
              "db-c": {ROLE_LABEL: "postgres", "other": "x"}, "web": {"io.drills.tier": "app"}}
    roles = RoleMap.build({"web": ["web"]}, labels)
    assert roles.members("postgres", labels) == ["db-a", "db-b", "db-c"]
    assert roles.members("primaries", labels) == ["db-b"]
    assert roles.members("web", labels) == ["web"]
    # Without a map entry or label, `pg` names no service: roles are never guessed from names.
    assert roles.members("pg", labels) == []


def test_a_role_naming_a_service_compose_does_not_define_is_found():
    roles = RoleMap.build({"postgres": ["pg1", "pg9"]}, {"x": {ROLE_LABEL: "rabbitmq"}})
    assert roles.unknown_services({"pg1", "x"}) == {"postgres": ["pg9"]}
    assert roles.unknown_services({"pg1", "pg9", "x"}) == {}


@given(st.dictionaries(st.sampled_from(["postgres", "rabbitmq", "worker"]),
                       st.lists(st.from_regex(r"[a-z]{1,3}[0-9]{0,2}", fullmatch=True), max_size=4), max_size=3),
       st.sets(st.from_regex(r"[a-z]{1,3}[0-9]{0,2}", fullmatch=True), max_size=8))
def test_members_of_a_mapped_role_are_exactly_its_defined_services(declared, defined):
    roles = RoleMap.build(declared, {})
    assert RoleMap.from_json(roles.to_json()) == roles
    for role, services in declared.items():
        members = roles.members(role, defined)
        assert set(members) == set(services) & defined
        assert members == pick(RoleRef(role), members)  # ordered as indexes count


def test_pick_orders_by_number_and_indexes():
    assert pick(RoleRef("dashboard"), ["dashboard10", "dashboard2", "dashboard1"]) == [
        "dashboard1", "dashboard2", "dashboard10"]
    assert pick(RoleRef("dashboard", index=1), ["dashboard10", "dashboard2", "dashboard1"]) == ["dashboard2"]
    assert pick(RoleRef("postgres", "replica", 5), ["pg1", "pg2"]) == []


@given(st.text(st.characters(categories=["Nd"]), min_size=1, max_size=3).filter(lambda t: not t.isascii()))
def test_an_index_takes_ascii_digits_only(digits):
    # int() reads Unicode digits, so `replica[\u0665]` (an Arabic-Indic five) used to mean replica 5.
    role = f"postgres.replica[{digits}]"
    with pytest.raises(StackError, match="not a role"):
        parse_role(role)
    assert re.fullmatch(ROLE_PATTERN, role) is None, "the JSON Schema refuses it too"
    assert parse_role("postgres.replica[05]").index == 5


@given(st.sampled_from(["postgres.replica", "etcd", "dashboard", "rabbitmq.leader@notifications"]),
       st.integers(0, 6000), st.integers(1, 6000))
def test_an_index_too_large_is_a_stack_error_never_a_value_error(role, zeros, digits):
    # Past 4,300 digits int() raised ValueError, which escaped `drill validate` as a traceback.
    index = "0" * zeros + "9" * digits
    if digits <= MAX_INDEX_DIGITS:
        assert parse_role(f"{role}[{index}]").index == int("9" * digits)
    else:
        with pytest.raises(StackError, match=r"index too large") as err:
            parse_role(f"{role}[{index}]")
        assert len(str(err.value)) < 200, "the message does not echo the digits"
