"""The `why:` of every expectation is printed in the compliance report as the justification of its
bound, so what it states about the stack must be what the stack runs. Every setting a why text
quotes with a figure (Patroni's ttl, loop_wait, retry_timeout; RabbitMQ's net_ticktime; the
clients' connect and op timeouts; HAProxy's checks and retries; the backup interval) is read here
from where the stack takes it (docker-compose.ha.yml's defaults, which `drill stack up` leaves as
they are; fixtures/images/haproxy/haproxy.cfg; the workload's client settings; the scenario's own
`backup:`) and compared, and the replication mode a PostgreSQL why text claims is checked against
Patroni's `synchronous_mode`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from drills.report.why_claims import ASYNC_CLAIM, quoted
from drills.scenario import Scenario, load_scenario
from drills.workload.base import DEFAULT_OP_TIMEOUT_S
from drills.workload.postgres import PostgresTarget
from drills.workload.rabbitmq import RabbitTarget

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
DEFAULT = re.compile(r"^\$\{(\w+):-([^}]*)\}$")


def _compose_defaults() -> dict[str, str]:
    """Every `${VAR:-default}` of the compose file's x-* anchors, by variable name."""
    doc = YAML(typ="safe").load((ROOT / "docker-compose.ha.yml").read_text())
    found: dict[str, str] = {}
    for key, value in doc.items():
        if key.startswith("x-") and isinstance(value, dict):
            for v in value.values():
                m = DEFAULT.match(str(v))
                if m:
                    found[m.group(1)] = m.group(2)
    return found


def _haproxy() -> dict[str, float]:
    cfg = (ROOT / "fixtures" / "images" / "haproxy" / "haproxy.cfg").read_text()
    server = re.search(r"default-server .*\binter (\d+)s fall (\d+)", cfg)
    retries = re.search(r"^\s*retries (\d+)", cfg, re.M)
    assert server and retries, "haproxy.cfg changed shape: update this test"
    return {"check interval": float(server.group(1)), "checks to fall": float(server.group(2)),
            "retries": float(retries.group(1))}


ENV = _compose_defaults()
SYNCHRONOUS = ENV["DRILLS_PATRONI_SYNCHRONOUS_MODE"].lower() == "true"
SETTINGS = {  # the setting's name as why texts write it -> its value on the stack, in seconds
    "ttl": float(ENV["DRILLS_PATRONI_TTL"]),
    "loop_wait": float(ENV["DRILLS_PATRONI_LOOP_WAIT"]),
    "retry_timeout": float(ENV["DRILLS_PATRONI_RETRY_TIMEOUT"]),
    "net_ticktime": float(ENV["DRILLS_RABBITMQ_NET_TICKTIME"]),
    "op timeout": DEFAULT_OP_TIMEOUT_S,
}
CONNECT_TIMEOUT = {"postgres": float(PostgresTarget(endpoints=(), password="", user="u", dbname="d").connect_timeout_s),
                   "rabbitmq": float(RabbitTarget.connect_timeout_s)}
EVERY = re.compile(r"\b(?:snapshot|dump|export) every (\d+(?:\.\d+)?) s\b", re.I)
HAPROXY_CHECKS = re.compile(r"\b(\d+) failed checks (\d+(?:\.\d+)?) s apart")
HAPROXY_RETRIES = re.compile(r"`retries (\d+)`")


def _whys(s: Scenario) -> Iterator[tuple[str, str]]:
    for i, exp in enumerate(s.expectations):
        yield f"{s.id}: expectations[{i}] ({exp.checker})", " ".join(exp.why.split())


def test_quoted_settings_are_found_in_all_their_spellings() -> None:
    """The extraction itself: each way the scenarios write a setting is recognised."""
    text = ("ttl 10 s, the key's ttl (10 s), loop_wait (2 s), a libpq connect_timeout of 2 s, a 2 s "
            "connect_timeout per host, (2 s connect timeout), its 5 s op timeout, net_ticktime 10 s")
    assert sorted(quoted(text)) == sorted([("ttl", 10), ("ttl", 10), ("loop_wait", 2), ("connect_timeout", 2),
                                           ("connect_timeout", 2), ("connect timeout", 2), ("op timeout", 5),
                                           ("net_ticktime", 10)])


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_settings_quoted_in_why_texts_are_the_stack_s(path: Path) -> None:
    s = load_scenario(path)
    wrong = []
    for where, text in _whys(s):
        for name, figure in quoted(text):
            actual = (CONNECT_TIMEOUT.get(s.component, CONNECT_TIMEOUT["postgres"]) if "connect" in name
                      else SETTINGS[name])
            if figure != actual:
                wrong.append(f"{where}: says {name} {figure:g} s, the stack runs {actual:g} s")
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
def test_postgres_why_texts_claim_the_replication_mode_the_stack_runs(path: Path) -> None:
    s = load_scenario(path)
    for where, text in _whys(s):
        if SYNCHRONOUS:
            assert not ASYNC_CLAIM.search(text), f"{where}: claims asynchronous replication; the stack runs " \
                                                 "Patroni's synchronous mode"
        else:
            assert "synchronous mode" not in text.replace("asynchronous", ""), \
                f"{where}: claims synchronous mode; the stack replicates asynchronously"


def test_the_why_texts_quote_settings_at_all() -> None:
    """Not vacuous: the scenarios do quote these settings, and the backup intervals."""
    texts = [text for p in SCENARIOS for _, text in _whys(load_scenario(p))]
    names = {name for text in texts for name, _ in quoted(text)}
    assert {"ttl", "loop_wait", "retry_timeout", "net_ticktime", "op timeout"} <= names
    assert any(EVERY.search(t) for t in texts) and any(HAPROXY_CHECKS.search(t) for t in texts)
