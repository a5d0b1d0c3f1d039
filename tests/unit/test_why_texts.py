"""The `why:` of every expectation is printed in the compliance report as the justification of its
bound, so what it states must be true. A setting of the stack it quotes with a figure (Patroni's
ttl, loop_wait, retry_timeout; RabbitMQ's net_ticktime) or the replication mode it claims must be
declared as an assumption of the expectation (`assumes:`, checked against the stack drilled:
`tests/unit/test_assumptions_reference.py` holds them to the reference stack's files), and the
figure quoted must satisfy it. The clients' own settings (connect and op timeouts), HAProxy's checks
and retries and the backup interval, which no effective configuration reads, are compared here with
where they are set (the workload's client settings; fixtures/images/haproxy/haproxy.cfg; the
scenario's own `backup:`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from drills.core.effective_config import READ, EffectiveConfig, Part
from drills.files.scenario import Scenario, load_scenario
from drills.files.scenario_schema import Expectation
from drills.spec.assumptions import HELD, Assumption, check, parse
from drills.workload.base import DEFAULT_OP_TIMEOUT_S
from drills.workload.postgres import PostgresTarget
from drills.workload.rabbitmq import RabbitTarget

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
# The settings a why text may quote, as it writes them -> the fact an assumption names.
STACK_SETTINGS = {"ttl": "postgres.patroni.ttl", "loop_wait": "postgres.patroni.loop_wait",
                  "retry_timeout": "postgres.patroni.retry_timeout", "net_ticktime": "rabbitmq.net_ticktime_s"}
# The clients' own settings: set by Drills' workload, not by the stack.
CLIENT_SETTINGS = ("connect_timeout", "connect timeout", "op timeout")
_NAMES = "|".join(sorted((*STACK_SETTINGS, *CLIENT_SETTINGS), key=len, reverse=True))
NAME_THEN_FIGURE = re.compile(rf"\b({_NAMES})\b(?: of | \(| )(\d+(?:\.\d+)?) s\b")
FIGURE_THEN_NAME = re.compile(rf"\b(\d+(?:\.\d+)?) s ({_NAMES})\b")
# Present-tense claims of the replication mode. A counterfactual ("with asynchronous replication
# this drill measured ...") is neither.
ASYNC_CLAIM = re.compile(r"replication is asynchronous|\(asynchronous (?:streaming )?replication\)", re.I)
SYNC_CLAIM = re.compile(r"(?<!a)synchronous mode", re.I)
SYNC_FACT = "postgres.patroni.synchronous_mode"


def quoted(text: str) -> Iterator[tuple[str, float]]:
    """(setting, figure) for every setting the text quotes with a figure in seconds."""
    for m in NAME_THEN_FIGURE.finditer(text):
        yield m.group(1), float(m.group(2))
    for m in FIGURE_THEN_NAME.finditer(text):
        yield m.group(2), float(m.group(1))


def _haproxy() -> dict[str, float]:
    cfg = (ROOT / "fixtures" / "images" / "haproxy" / "haproxy.cfg").read_text()
    server = re.search(r"default-server .*\binter (\d+)s fall (\d+)", cfg)
    retries = re.search(r"^\s*retries (\d+)", cfg, re.M)
    assert server and retries, "haproxy.cfg changed shape: update this test"
    return {"check interval": float(server.group(1)), "checks to fall": float(server.group(2)),
            "retries": float(retries.group(1))}


CONNECT_TIMEOUT = {"postgres": float(PostgresTarget(endpoints=(), password="", user="u", dbname="d").connect_timeout_s),
                   "rabbitmq": float(RabbitTarget.connect_timeout_s)}
EVERY = re.compile(r"\b(?:snapshot|dump|export) every (\d+(?:\.\d+)?) s\b", re.I)
HAPROXY_CHECKS = re.compile(r"\b(\d+) failed checks (\d+(?:\.\d+)?) s apart")
HAPROXY_RETRIES = re.compile(r"`retries (\d+)`")


def _whys(s: Scenario) -> Iterator[tuple[str, str, Expectation]]:
    for i, exp in enumerate(s.expectations):
        yield f"{s.id}: expectations[{i}] ({exp.checker})", " ".join(exp.why.split()), exp


def _admits(assumption: Assumption, value: object) -> bool:
    """The assumption holds of a stack that runs `value` (the figure a why quotes)."""
    fact = assumption.fact
    effective = EffectiveConfig({fact.part: Part(READ, settings=_nested(fact.where, value))})
    return check(assumption, effective).status == HELD


def _nested(keys: tuple[str, ...], value: object) -> dict[str, object]:
    return {keys[0]: value} if len(keys) == 1 else {keys[0]: _nested(keys[1:], value)}


def test_quoted_settings_are_found_in_all_their_spellings() -> None:
    """The extraction itself: each way the scenarios write a setting is recognised."""
    text = ("ttl 10 s, the key's ttl (10 s), loop_wait (2 s), a libpq connect_timeout of 2 s, a 2 s "
            "connect_timeout per host, (2 s connect timeout), its 5 s op timeout, net_ticktime 10 s")
    assert sorted(quoted(text)) == sorted([("ttl", 10), ("ttl", 10), ("loop_wait", 2), ("connect_timeout", 2),
                                           ("connect_timeout", 2), ("connect timeout", 2), ("op timeout", 5),
                                           ("net_ticktime", 10)])


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_stack_settings_quoted_in_why_texts_are_declared_assumptions(path: Path) -> None:
    """A figure of the stack's in a why is an assumption of its bound: declared, and the figure
    quoted satisfies it (a why saying ttl 10 s under `ttl <= 5` would contradict itself)."""
    wrong = []
    for where, text, exp in _whys(load_scenario(path)):
        declared = [parse(a) for a in exp.assumes]
        for name, figure in quoted(text):
            fact = STACK_SETTINGS.get(name)
            if fact is None:
                continue
            on_it = [a for a in declared if a.path == fact]
            if not on_it:
                wrong.append(f"{where}: quotes {name} {figure:g} s, and declares no assumption on {fact}")
            wrong += [f"{where}: quotes {name} {figure:g} s, which its assumption `{a}` refuses"
                      for a in on_it if not _admits(a, figure)]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_client_and_balancer_settings_quoted_in_why_texts_are_the_ones_set(path: Path) -> None:
    s = load_scenario(path)
    wrong = []
    for where, text, _ in _whys(s):
        for name, figure in quoted(text):
            if name in STACK_SETTINGS:
                continue
            actual = (CONNECT_TIMEOUT.get(s.component, CONNECT_TIMEOUT["postgres"]) if "connect" in name
                      else DEFAULT_OP_TIMEOUT_S)
            if figure != actual:
                wrong.append(f"{where}: says {name} {figure:g} s, the clients run {actual:g} s")
        for m in EVERY.finditer(text):
            interval = s.backup.interval if s.backup else None
            if float(m.group(1)) != interval:
                wrong.append(f"{where}: says a backup every {m.group(1)} s, the scenario's interval is {interval}")
        haproxy = _haproxy()
        for m in HAPROXY_CHECKS.finditer(text):
            if (float(m.group(1)), float(m.group(2))) != (haproxy["checks to fall"], haproxy["check interval"]):
                wrong.append(f"{where}: says {m.group(0)}, haproxy.cfg has fall {haproxy['checks to fall']:g} "
                             f"inter {haproxy['check interval']:g}s")
        for m in HAPROXY_RETRIES.finditer(text):
            if float(m.group(1)) != haproxy["retries"]:
                wrong.append(f"{where}: says {m.group(0)}, haproxy.cfg has retries {haproxy['retries']:g}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("path", [p for p in SCENARIOS if p.stem.startswith("postgres-")], ids=lambda p: p.stem)
def test_a_replication_mode_claimed_is_a_declared_assumption(path: Path) -> None:
    for where, text, exp in _whys(load_scenario(path)):
        declared = [parse(a) for a in exp.assumes if a.startswith(SYNC_FACT)]
        if ASYNC_CLAIM.search(text):
            assert any(_admits(a, False) for a in declared) and not any(_admits(a, True) for a in declared), \
                f"{where}: claims asynchronous replication; declare `{SYNC_FACT} == false`"
        elif SYNC_CLAIM.search(text):
            assert declared and all(_admits(a, True) and not _admits(a, False) for a in declared), \
                f"{where}: claims synchronous mode; declare `{SYNC_FACT} == true`"


def test_the_why_texts_quote_settings_at_all() -> None:
    """Not vacuous: the scenarios do quote these settings, and the backup intervals."""
    texts = [text for p in SCENARIOS for _, text, _ in _whys(load_scenario(p))]
    names = {name for text in texts for name, _ in quoted(text)}
    assert {"ttl", "loop_wait", "retry_timeout", "net_ticktime", "op timeout"} <= names
    assert any(SYNC_CLAIM.search(t) for t in texts)
    assert any(EVERY.search(t) for t in texts) and any(HAPROXY_CHECKS.search(t) for t in texts)
