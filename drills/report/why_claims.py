"""What an expectation's `why:` says about the stack, checked against the stack the drill ran on.

A `why:` is printed in the compliance report as the justification of its bound, so what it states
about the stack must be true of the stack drilled. The scenarios' texts are written for the
reference stack (`tests/unit/test_why_texts.py` holds them to its files); on a variation (a stack
file of the user's, an override such as asynchronous replication or a slower failover) a text can
quote a setting the stack does not run. Each run checks the settings its texts quote with a figure
(Patroni's ttl, loop_wait, retry_timeout; RabbitMQ's net_ticktime) and the replication mode they
claim against the configuration read back from the running stack; the report prints, beside the
verdict, each claim that does not hold there, and each one that could not be checked (not read).

    contradicted(why, effective)  ->  ["says ttl 10 s; this stack runs ttl 30 s", ...]
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from drills.stack.effective_config import NOT_READ, EffectiveConfig

# The settings a why text may quote, as it writes them -> where the effective configuration has them.
STACK_SETTINGS: dict[str, tuple[str, ...]] = {
    "ttl": ("postgres", "patroni", "ttl"),
    "loop_wait": ("postgres", "patroni", "loop_wait"),
    "retry_timeout": ("postgres", "patroni", "retry_timeout"),
    "net_ticktime": ("rabbitmq", "net_ticktime_s"),
}
# The clients' own settings: quoted too, set by Drills' workload, not by the stack.
CLIENT_SETTINGS = ("connect_timeout", "connect timeout", "op timeout")
_NAMES = "|".join(sorted((*STACK_SETTINGS, *CLIENT_SETTINGS), key=len, reverse=True))
NAME_THEN_FIGURE = re.compile(rf"\b({_NAMES})\b(?: of | \(| )(\d+(?:\.\d+)?) s\b")
FIGURE_THEN_NAME = re.compile(rf"\b(\d+(?:\.\d+)?) s ({_NAMES})\b")
# Present-tense claims of the replication mode. A counterfactual ("with asynchronous replication
# this drill measured ...") is neither.
ASYNC_CLAIM = re.compile(r"replication is asynchronous|\(asynchronous (?:streaming )?replication\)", re.I)
SYNC_CLAIM = re.compile(r"(?<!a)synchronous mode", re.I)


def quoted(text: str) -> Iterator[tuple[str, float]]:
    """(setting, figure) for every setting the text quotes with a figure in seconds."""
    for m in NAME_THEN_FIGURE.finditer(text):
        yield m.group(1), float(m.group(2))
    for m in FIGURE_THEN_NAME.finditer(text):
        yield m.group(2), float(m.group(1))


def claimed_mode(text: str) -> str | None:
    """"synchronous" or "asynchronous" when the text states PostgreSQL replicates so; else None."""
    if ASYNC_CLAIM.search(text):
        return "asynchronous"
    if SYNC_CLAIM.search(text):
        return "synchronous"
    return None


def contradicted(why: str, effective: EffectiveConfig | None) -> list[str]:
    """Each claim of `why` about the stack that the stack drilled does not bear out: a setting it
    runs otherwise, a replication mode it does not run, or a setting that could not be read from
    it, or a run that recorded no configuration (`effective` None): then the claim is unchecked,
    said so, not taken as true."""
    text = " ".join(why.split())
    found: list[str] = []
    for name, figure in dict.fromkeys(quoted(text)):
        where = STACK_SETTINGS.get(name)
        if where is None:
            continue
        actual = _setting(effective, where)
        if actual is None:
            found.append(f"says {name} {figure:g} s; {_unread(effective)}")
        elif float(actual) != figure:
            found.append(f"says {name} {figure:g} s; this stack runs {name} {float(actual):g} s")
    mode = claimed_mode(text)
    if mode is not None:
        synchronous = _setting(effective, ("postgres", "patroni", "synchronous_mode"))
        if synchronous is None:
            found.append(f"says PostgreSQL replicates in {mode} mode; {_unread(effective)}")
        elif (mode == "synchronous") != bool(synchronous):
            found.append(f"says PostgreSQL replicates in {mode} mode; this stack runs Patroni's synchronous_mode "
                         f"{'on' if synchronous else 'off'}")
    return found


def _unread(effective: EffectiveConfig | None) -> str:
    return "not read from this stack, unchecked" if effective is not None else \
        "the run recorded no configuration of the stack, unchecked"


def _setting(effective: EffectiveConfig | None, where: tuple[str, ...]) -> Any:
    if effective is None:
        return None
    part = effective.part(where[0])
    if part.status == NOT_READ or where[1] in part.not_read:
        return None
    value: Any = part.settings
    for key in where[1:]:
        value = value.get(key) if isinstance(value, dict) else None
    return value
