"""The effective configuration in words: one line per part, for `drill stack status` and the report.

    PostgreSQL 15.18, Patroni 3.0.2, 3 members: synchronous_mode on (strict off), synchronous_commit on,
        ttl 10 s, loop_wait 2 s, retry_timeout 3 s, ...; now leader pg1, sync_standby pg2, replica pg3
    RabbitMQ 3.10.8 (Erlang 25.2.3), 3 nodes, 3 running: net_ticktime 10 s, cluster_partition_handling
        pause_minority; queues notifications quorum (3 members, leader rabbit2), ...

A part not read says NOT READ and why; an item of a part that could not be read says "not read"
with why. Each component's part is in its adapter's words, else in its kind's
(`drills.components.registry.describe_part`); the instances' are here. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drills.components import registry
from drills.components._effective_words import gaps_text
from drills.core.effective_config import ABSENT, INSTANCES, NOT_READ, EffectiveConfig, Part

# Every part a record has, in the order shown: each component kind's, then the instances.
PARTS: tuple[str, ...] = (*registry.EFFECTIVE_PARTS, INSTANCES)
LABELS: dict[str, str] = {**registry.EFFECTIVE_LABELS, INSTANCES: "Instances"}


def instances_text(part: Part) -> str:
    defined: Mapping[str, Any] = part.settings.get("defined") or {}
    running: Mapping[str, Any] = part.state.get("running") or {}
    items = []
    for role in sorted(set(defined) | set(running), key=lambda r: (-(defined.get(r) or 0), r)):
        d, r = defined.get(role), running.get(role, 0)
        if d is None:
            items.append(f"{role} {r} running")
        else:
            items.append(f"{role} {d}" + ("" if r == d else f" ({r} running)"))
    images = "; ".join(f"{image} x{len(services)}" for image, services in (part.settings.get("images") or {}).items())
    return f"{', '.join(items)}" + (f"; images {images}" if images else "") + gaps_text(part)


def part_text(name: str, part: Part) -> str:
    if part.status == NOT_READ:
        return f"NOT READ: {part.reason}"
    if part.status == ABSENT:
        return f"absent: {part.reason}" if part.reason else "absent"
    try:
        return instances_text(part) if name == INSTANCES else registry.describe_part(name, part)
    except (AttributeError, KeyError, TypeError) as exc:  # a journal written by hand or by another version
        return f"NOT READ: recorded in a shape this version cannot show ({type(exc).__name__}: {exc})"


def stack_text(stack: Mapping[str, Any]) -> str:
    if "not_read" in stack:
        return f"NOT READ: {stack['not_read']}"
    files = ", ".join(str(f) for f in stack.get("compose_files") or [])
    return f"{stack.get('name')} ({stack.get('file')}); Compose files {files}"


def every_part(config: EffectiveConfig) -> EffectiveConfig:
    """The record with each part it lacks (an older journal) as not read, as its words show it."""
    return EffectiveConfig({name: config.part(name) for name in PARTS} | dict(config.parts), config.read_s,
                           config.stack)


def lines(config: EffectiveConfig) -> list[tuple[str, str]]:
    """(label, text) per part, every part: one not read says so; first the stack file it came from,
    where recorded."""
    head = [("Stack", stack_text(config.stack))] if config.stack else []
    return head + [(LABELS[name], part_text(name, config.part(name))) for name in PARTS]
