"""Declared assumptions (`drills.spec.assumptions`): the grammar reads back what it writes, the
comparisons are Python's, a fact not read is never held, and a scenario file's mistakes are
located like every other problem."""

from __future__ import annotations

import json
import operator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drills.core.effective_config import ABSENT, NOT_READ, READ, EffectiveConfig, Fact, Part
from drills.spec.assumptions import (
    BROKEN,
    FACTS,
    HELD,
    OPS,
    ORDERING,
    UNCHECKED,
    Assumption,
    AssumptionCheck,
    check,
    check_all,
    format_value,
    parse,
    worst,
)

PY = {"==": operator.eq, "!=": operator.ne, "<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt}
NAMES = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,12}", fullmatch=True)
WORDS = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.:/+-]{0,12}", fullmatch=True)
NUMBERS = st.one_of(st.integers(-10**6, 10**6).map(float),
                    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9))


def values_of(fact: Fact) -> st.SearchStrategy[object]:
    return {"number": NUMBERS, "bool": st.booleans(), "word": WORDS}[fact.kind]


@st.composite
def assumptions(draw: st.DrawFn, facts: tuple[Fact, ...] = FACTS) -> Assumption:
    fact = draw(st.sampled_from(facts))
    path = fact.path.replace(f"<{fact.placeholder}>", draw(NAMES)) if fact.placeholder else fact.path
    op = draw(st.sampled_from([o for o in OPS if fact.kind == "number" or o not in ORDERING]))
    if op == "in":
        return Assumption(path, op, tuple(draw(st.lists(values_of(fact), min_size=1, max_size=4))))
    return Assumption(path, op, draw(values_of(fact)))


def config(**parts: Part) -> EffectiveConfig:
    return EffectiveConfig(parts)


def postgres(**patroni: object) -> EffectiveConfig:
    return config(postgres=Part(READ, settings={"patroni": patroni, "postgresql": {"use_pg_rewind": True},
                                                "pg_settings": {"synchronous_commit": "on"}}))


# ---- the grammar -----------------------------------------------------------------------------------


@given(assumptions())
def test_the_grammar_reads_back_what_it_writes(a: Assumption) -> None:
    assert parse(str(a)) == a
    assert str(parse(str(a))) == str(a)


@given(assumptions(), st.sampled_from(["", " ", "  ", "\t"]), st.sampled_from(["", " ", "   "]))
def test_spacing_and_the_shorthand_spell_the_same_assumption(a: Assumption, before: str, after: str) -> None:
    value = format_value(a.value)
    if a.op != "in":  # `in` needs a space or the list right after it
        assert parse(f"{before}{a.path}{before}{a.op}{after}{value}{after}") == a
    if a.op == "==":
        assert parse(f"{a.path}:{after}{value}") == a


@pytest.mark.parametrize(("text", "message"), [
    ("postgres.patroni.tll <= 10", "unknown fact 'postgres.patroni.tll'; did you mean 'postgres.patroni.ttl'?"),
    ("patroni.nonsense == 1", "unknown fact 'patroni.nonsense' (facts: postgres.patroni.ttl,"),
    ("postgres.patroni.ttl =< 10", "bad operator '=<' after postgres.patroni.ttl"),
    ("postgres.patroni.ttl ~ 10", "bad operator '~'"),
    ("postgres.patroni.ttl", "no operator after postgres.patroni.ttl"),
    ("postgres.patroni.ttl <=", "no value after `postgres.patroni.ttl <=`"),
    ("postgres.patroni.ttl <= ten", "unparsable value 'ten': postgres.patroni.ttl is a number"),
    ("postgres.patroni.synchronous_mode == yes", "unparsable value 'yes': postgres.patroni.synchronous_mode is "
                                                 "true or false"),
    ("postgres.synchronous_commit < on", "bad operator '<': it compares numbers"),
    ("postgres.synchronous_commit in on", "`in` takes a list"),
    ("postgres.synchronous_commit in []", "a list of at least one value"),
    ("postgres.synchronous_commit in [on,,local]", "an empty item in the list"),
    ("postgres.synchronous_commit == [on]", "a list needs `in`"),
    ("postgres.synchronous_commit == remote write", "unparsable value 'remote write'"),
    ("", "an assumption is `PATH OP VALUE`"),
])
def test_each_mistake_is_said_in_words(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=None) as err:
        parse(text)
    assert message in str(err.value), str(err.value)


def test_a_name_in_a_path_is_the_queue_or_role_it_names() -> None:
    a = parse("rabbitmq.queues.orders.v2.type == quorum")
    assert a.fact.path == "rabbitmq.queues.<queue>.type"
    queues = config(rabbitmq=Part(READ, settings={"queues": {"orders.v2": {"type": "classic"}}}))
    assert check(a, queues) == AssumptionCheck(str(a), BROKEN, "classic")
    assert check(parse("rabbitmq.queues.other.type == quorum"), queues).status == UNCHECKED


# ---- checked against the configuration read ------------------------------------------------------------


@given(st.sampled_from(sorted(PY)), NUMBERS, NUMBERS, st.booleans())
def test_the_comparisons_are_python_s(op: str, actual: float, bound: float, as_int: bool) -> None:
    read = int(actual) if as_int else actual  # the DCS holds ints
    a = Assumption("postgres.patroni.ttl", op, bound)
    result = check(a, postgres(ttl=read))
    assert result.status == (HELD if PY[op](float(read), bound) else BROKEN)
    assert result.actual == read


@given(WORDS, st.lists(WORDS, min_size=1, max_size=4))
def test_in_is_membership(actual: str, listed: list[str]) -> None:
    a = Assumption("postgres.synchronous_commit", "in", tuple(listed))
    part = Part(READ, settings={"pg_settings": {"synchronous_commit": actual}})
    assert check(a, config(postgres=part)).status == (HELD if actual in listed else BROKEN)


@given(assumptions(), st.sampled_from(["none", "not read", "absent", "item not read", "missing"]))
def test_a_fact_not_read_is_never_held(a: Assumption, how: str) -> None:
    fact = a.fact
    if how == "none":
        effective = None
    elif how == "not read":
        effective = config(**{fact.part: Part(NOT_READ, reason="timed out")})
    elif how == "absent":
        effective = config(**{fact.part: Part(ABSENT, reason="no such service")})
    elif how == "item not read":
        if not fact.unread_item:
            return
        effective = config(**{fact.part: Part(READ, not_read={fact.unread_item: "no leader"})})
    else:
        effective = config(**{fact.part: Part(READ, settings={})})
    result = check(a, effective)
    assert result.status == UNCHECKED and result.reason
    assert result.text.startswith(f"this bound assumes {a}; unchecked: ")


def test_a_value_of_another_kind_is_unchecked_not_compared() -> None:
    result = check(parse("postgres.patroni.ttl <= 10"), postgres(ttl="soon"))
    assert result.status == UNCHECKED and "not a number" in result.reason


@pytest.mark.parametrize(("read", "status"), [(True, HELD), ("on", HELD), ("true", HELD), (False, BROKEN),
                                              ("off", BROKEN), ("maybe", UNCHECKED)])
def test_booleans_as_patroni_spells_them(read: object, status: str) -> None:
    assert check(parse("postgres.patroni.synchronous_mode: true"), postgres(synchronous_mode=read)).status == status


@given(st.dictionaries(st.sampled_from(["rabbit1", "rabbit2", "rabbit3"]), st.integers(1, 120), min_size=1))
def test_a_value_per_node_holds_only_when_every_node_s_does(ticks: dict[str, int]) -> None:
    a = parse("rabbitmq.net_ticktime_s <= 10")
    result = check(a, config(rabbitmq=Part(READ, settings={"net_ticktime_s": ticks})))
    assert result.status == (HELD if all(t <= 10 for t in ticks.values()) else BROKEN)


def test_the_words_of_a_result() -> None:
    a = parse("postgres.synchronous_commit in [on, remote_write, remote_apply]")
    local = config(postgres=Part(READ, settings={"pg_settings": {"synchronous_commit": "local"}}))
    result = check(a, local)
    assert result.text == ("this bound assumes postgres.synchronous_commit in [on, remote_write, remote_apply]; "
                           "the stack runs local")
    assert result.to_json() == {"assumes": str(a), "status": "broken", "actual": "local"}
    assert AssumptionCheck.from_json(json.loads(json.dumps(result.to_json()))) == result
    assert AssumptionCheck.from_json({"assumes": str(a), "status": "whatever"}).status == UNCHECKED


@given(st.lists(st.sampled_from([HELD, BROKEN, UNCHECKED])))
def test_the_worst_is_broken_then_unchecked(statuses: list[str]) -> None:
    results = [AssumptionCheck("x", s) for s in statuses]  # type: ignore[arg-type]
    expected = next((s for s in (BROKEN, UNCHECKED, HELD) if s in statuses), None)
    assert worst(results) == expected


def test_a_journal_s_assumption_this_version_cannot_read_is_unchecked() -> None:
    (result,) = check_all(["postgres.patroni.gone <= 3"], postgres(ttl=10))
    assert result.status == UNCHECKED and "unknown fact" in result.reason


# ---- in scenario files -----------------------------------------------------------------------------

FILE = """\
id: x
title: t
policy: p
workload: {postgres.write: {rate: 5}}
steps: [{fault: kill, target: postgres.leader, hold: 1s}]
expectations:
  - checker: lost-writes
    signal: postgres.write
    assumes:
%s
    why: w
"""


def write(tmp_path: Path, *items: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(FILE % "\n".join(f"      - {i}" for i in items))
    return path


def test_a_file_s_mistakes_are_located_at_their_item(tmp_path: Path) -> None:
    from drills.files.scenario import check_file

    path = write(tmp_path, "postgres.patroni.ttl <= 10", "postgres.patroni.tll <= 10", "postgres.patroni.ttl =< 10",
                 "postgres.synchronous_commit in [on, 5 6]", "{a: 1, b: 2}")
    scenario, problems = check_file(path)
    assert scenario is None
    found = [(p.line, p.column, p.field, p.message.split(" (got")[0]) for p in problems]
    assert found == [
        (11, 9, "expectations[0].assumes[1]", "unknown fact 'postgres.patroni.tll'; did you mean "
                                              "'postgres.patroni.ttl'?"),
        (12, 9, "expectations[0].assumes[2]", "bad operator '=<' after postgres.patroni.ttl: use ==, !=, <=, <, >=, "
                                              ">, in [a, b], or `PATH: VALUE`"),
        (13, 9, "expectations[0].assumes[3]", "unparsable value '5 6': postgres.synchronous_commit is a word "
                                              "(letters, digits, _ . : / + -)"),
        (14, 9, "expectations[0].assumes[4]", "one assumption per item: `- PATH: VALUE` or `- PATH OP VALUE`"),
    ]


def test_a_file_may_write_the_shorthand_as_yaml_does(tmp_path: Path) -> None:
    """`- postgres.patroni.synchronous_mode: true` is a YAML mapping: read as the shorthand."""
    from drills.files.scenario import load_scenario

    path = write(tmp_path, "postgres.patroni.synchronous_mode: true", "postgres.patroni.ttl: 10",
                 "postgres.synchronous_commit in [on, remote_apply]")
    (exp,) = load_scenario(path).expectations
    assert exp.assumes == ("postgres.patroni.synchronous_mode == true", "postgres.patroni.ttl == 10",
                           "postgres.synchronous_commit in [on, remote_apply]")


def test_every_checker_takes_assumptions_and_the_schema_documents_every_fact() -> None:
    from drills.checkers.registry import CHECKERS
    from drills.files.scenario import scenario_json_schema

    assert all("assumes" in c.model.model_fields for c in CHECKERS.values())
    text = json.dumps(scenario_json_schema())
    assert all(f.path in text for f in FACTS)


def test_an_exploration_s_invariants_take_them_and_a_drawn_scenario_keeps_them(tmp_path: Path) -> None:
    from drills.explore.schedule import scenario_of, scenario_yaml
    from drills.files.exploration import load_exploration
    from drills.files.scenario import load_scenario

    root = Path(__file__).resolve().parents[2]
    exploration = load_exploration(root / "explorations" / "postgres-failover.yaml")
    assert exploration.invariants[0].assumes == ("postgres.patroni.synchronous_mode == true",
                                                 "postgres.synchronous_commit in [on, remote_write, remote_apply]")
    written = tmp_path / "drawn.yaml"
    data = scenario_of(exploration, [])
    data["steps"] = [{"fault": "kill", "target": "postgres.leader", "hold": "1s"}]
    written.write_text(scenario_yaml(data))
    assert [e.assumes for e in load_scenario(written).expectations] == [e.assumes for e in exploration.invariants]
