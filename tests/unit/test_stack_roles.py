"""Role names: parsing and selection (no containers)."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drills.errors import StackError
from drills.roles import RoleRef, parse_role
from drills.scenario_types import ROLE_PATTERN
from drills.stack.roles import group_members, pick

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
        parse_role(text)


def test_role_text_round_trips():
    for text in ("postgres.leader", "postgres.replica[1]", "rabbitmq.follower@notifications", "dashboard[0]", "etcd"):
        assert str(parse_role(text)) == text


def test_rabbitmq_roles_default_to_the_scheduled_runs_queue():
    assert parse_role("rabbitmq.leader").queue == "scheduled-runs"
    assert parse_role("rabbitmq.leader@notifications").queue == "notifications"
    assert parse_role("rabbitmq.leader@notifications").base_selector == "leader"


def test_group_members():
    assert group_members("postgres", SERVICES) == ["pg1", "pg2", "pg3"]
    assert group_members("rabbitmq", SERVICES) == ["rabbit1", "rabbit2", "rabbit3"]
    assert group_members("mongo", SERVICES) == []  # mongo-init is not a member
    assert group_members("dashboard", SERVICES) == ["dashboard1", "dashboard2", "dashboard10"]
    assert group_members("lb", SERVICES) == ["lb"]
    assert group_members("pg2", SERVICES) == ["pg2"]
    assert group_members("nothing", SERVICES) == []


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
