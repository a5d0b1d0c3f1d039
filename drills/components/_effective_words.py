"""What every part's words share (`drill stack status`, the report): a value as the words write it,
and the items of a part that could not be read, with why. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drills.core.effective_config import Part


def value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if value is None:
        return "none"
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {value_text(v)}" for k, v in value.items())
    return str(value)


def gaps_text(part: Part) -> str:
    return "".join(f"; {item} not read: {why}" for item, why in part.not_read.items())
