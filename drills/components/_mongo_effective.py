"""MongoDB's effective configuration in words, and the facts `assumes:` may name of it. Read by
`drills.stack.effective_sources` until the MongoDB adapter reads it (plans/components-protocol.md,
C-M2). Pure."""

from __future__ import annotations

from drills.components._effective_words import gaps_text
from drills.core.effective_config import Fact, Part

PART = "mongo"


def describe(part: Part) -> str:
    s, st = part.settings, part.state
    head = "MongoDB" + (f" {s['version']}" if s.get("version") else "")
    states = ", ".join(f"{m['state']} {m['member']}" for m in st.get("members") or [])
    return f"{head}, replica set {s.get('replica_set')} of {s.get('members')} members: {states}" + gaps_text(part)


FACTS: tuple[Fact, ...] = (
    Fact("mongo.members", "number", "mongo", ("members",), "", "members of the MongoDB replica set"),
)
