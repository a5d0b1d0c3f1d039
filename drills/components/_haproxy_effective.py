"""HAProxy's backends in words, as its stats list them (the balancer part read by
`drills.stack.effective_sources` until HAProxy has an adapter). Pure."""

from __future__ import annotations

from drills.components._effective_words import gaps_text
from drills.core.effective_config import Part

PART = "balancer"


def describe(part: Part) -> str:
    s, backends = part.settings, (part.state.get("backends") or {})
    shown = ", ".join(f"{server} {backends.get(server, 'not listed')}" for server in s.get("servers") or [])
    return f"{s.get('balancer')}, backend {s.get('backend')}: {shown}" + gaps_text(part)
