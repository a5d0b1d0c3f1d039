"""The effective configuration drilled, as a record: one `Part` per source, each `read`, `not read`
(with why: a part that could not be read is never an empty part that looks like "nothing
configured") or `absent` (the stack has no such component, with why). A read part keeps what it
could not read of itself in `not_read`, item by item. Read from a live stack by
`drills.stack.effective.read_effective`; shown in words by `drills.stack.effective_text`. Pure.

A part's `settings` are the configuration (compared between two reads by `changes`, hashed by
`fingerprint`); its `state` is what holds at the moment of the read (leaders, backends UP):
context for a reader, never compared.

A `Fact` is what an expectation's `assumes:` may name of the record (`drills.spec.assumptions`
declares which, and checks them): the record and where its facts sit in it are one vocabulary, for
the readers that produce it and the checks that read it.

The JSON shape (`EffectiveConfig.to_json`), as the journal's `environment.effective` holds it:

    {"read_s": 0.41, "stack": {"name": ..., "file": ..., "compose_files": [...]},
     "parts": {"postgres": {"status": "read", "reason": "", "settings": {...}, "state": {...},
                            "not_read": {"pg_settings": "why"}}, ...}}
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

PartStatus = Literal["read", "not read", "absent"]
READ: PartStatus = "read"
NOT_READ: PartStatus = "not read"
ABSENT: PartStatus = "absent"
_STATUSES: dict[str, PartStatus] = {READ: READ, NOT_READ: NOT_READ, ABSENT: ABSENT}
INSTANCES = "instances"  # the part every stack has: how many instances of each role, the images they run


@dataclass(frozen=True)
class Part:
    """One component's effective configuration, or why it is not there."""

    status: PartStatus
    reason: str = ""  # not read / absent: why
    settings: Mapping[str, Any] = field(default_factory=dict)
    state: Mapping[str, Any] = field(default_factory=dict)
    not_read: Mapping[str, str] = field(default_factory=dict)  # item -> why, in a part that was read

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "reason": self.reason, "settings": dict(self.settings),
                "state": dict(self.state), "not_read": dict(self.not_read)}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Part:
        status = _STATUSES.get(str(doc.get("status")), NOT_READ)
        return cls(status, str(doc.get("reason", "")), dict(doc.get("settings") or {}), dict(doc.get("state") or {}),
                   {str(k): str(v) for k, v in (doc.get("not_read") or {}).items()})


def not_read(reason: str) -> Part:
    return Part(NOT_READ, reason=reason)


def absent(reason: str) -> Part:
    return Part(ABSENT, reason=reason)


@dataclass(frozen=True)
class EffectiveConfig:
    parts: Mapping[str, Part]
    read_s: float | None = None  # how long the read took
    stack: Mapping[str, Any] = field(default_factory=dict)  # the stack file and Compose files it came from

    def part(self, name: str) -> Part:
        """A part this record lacks (an older journal) is not read, never "nothing configured"."""
        return self.parts.get(name) or not_read("not recorded")

    def to_json(self) -> dict[str, Any]:
        return {"read_s": None if self.read_s is None else round(self.read_s, 3), "stack": dict(self.stack),
                "parts": {name: part.to_json() for name, part in self.parts.items()}}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any] | None) -> EffectiveConfig:
        parts = (doc or {}).get("parts") or {}
        read_s = (doc or {}).get("read_s")
        stack = (doc or {}).get("stack")
        return cls({str(name): Part.from_json(part) for name, part in parts.items() if isinstance(part, Mapping)},
                   float(read_s) if isinstance(read_s, int | float) else None,
                   dict(stack) if isinstance(stack, Mapping) else {})


def fingerprint(config: EffectiveConfig) -> str:
    """SHA-256 of the configuration alone (each part's status and settings, the stack and Compose
    files): two runs drilled the same configuration when theirs are equal; what held at the moment
    of a read (leaders, backends UP) and how long it took do not count. Over the parts the record
    holds: one an older journal lacks counts once it is added as not read (the readers that know
    every part do: `drills.stack.effective_text.every_part`)."""
    doc = {"stack": dict(config.stack),
           "parts": {name: {"status": part.status, "settings": part.settings} for name, part in config.parts.items()}}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def changes(before: EffectiveConfig, after: EffectiveConfig) -> list[str]:
    """Each setting that differs between two reads, as `part.path: before -> after`. Parts not read
    on either side, and items of a part not read on either side (a node whose statistics were not
    in yet when the drill began), are left out: their difference is unknown, not none."""
    found: list[str] = []
    for name in _names(before, after):
        a, b = before.part(name), after.part(name)
        if NOT_READ in (a.status, b.status):
            continue
        if a.status != b.status:
            found.append(f"{name}: {a.status} -> {b.status}")
            continue
        unread = set(a.not_read) | set(b.not_read)
        found += [f"{name}.{path}: {x!r} -> {y!r}" for path, x, y in _diff(a.settings, b.settings)
                  if path.split(".", 1)[0] not in unread]
    return found


def _names(before: EffectiveConfig, after: EffectiveConfig) -> list[str]:
    """The parts either record holds, in the order they were read (a part one lacks: not recorded)."""
    return list(dict.fromkeys([*before.parts, *after.parts]))


def compared(before: EffectiveConfig, after: EffectiveConfig) -> dict[str, Any]:
    """What a second read at the end of a drill says about the first: the settings that changed, and
    the parts that could not be compared (not read at either end), with why."""
    unknown = {name: (before.part(name).reason if before.part(name).status == NOT_READ else "")
               or after.part(name).reason
               for name in _names(before, after) if NOT_READ in (before.part(name).status, after.part(name).status)}
    for name in _names(before, after):
        if name not in unknown:
            a, b = before.part(name), after.part(name)
            unknown.update({f"{name}.{item}": a.not_read.get(item) or b.not_read[item]
                            for item in sorted(set(a.not_read) | set(b.not_read))})
    return {"read_s": None if after.read_s is None else round(after.read_s, 3), "changes": changes(before, after),
            "not_compared": unknown}


Kind = Literal["number", "bool", "word"]  # how an assumption writes a fact's value (drills.spec.assumptions)


@dataclass(frozen=True)
class Fact:
    """A fact an assumption may name: where the effective configuration holds it, under its part's
    `settings` (a `<name>` in `path` stands for a name the assumption gives), and the item of the
    part's `not_read` that says it could not be read ("" when it is read with the part)."""

    path: str
    kind: Kind
    part: str
    where: tuple[str, ...]
    unread_item: str
    description: str
    # The manager whose setting this is when its section does not say so (Patroni's `postgresql:`
    # section): what a stack running another manager is told it does not run.
    manager: str = ""

    @property
    def placeholder(self) -> str | None:
        found = re.search(r"<(\w+)>", self.path)
        return found.group(1) if found else None


class _Missing:
    def __repr__(self) -> str:
        return "(unset)"


_MISSING = _Missing()


def _diff(a: Any, b: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        out = []
        for key in sorted(set(a) | set(b), key=str):
            sub = f"{path}.{key}" if path else str(key)
            out += _diff(a.get(key, _MISSING), b.get(key, _MISSING), sub)
        return out
    return [] if a == b else [(path, a, b)]

