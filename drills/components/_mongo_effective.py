"""MongoDB's effective configuration in words, the facts `assumes:` may name of it, and its reader
(`read_mongo`: the replica set's status and the version a member reports), which the registry's
legacy effective table lists until the MongoDB adapter reads it (plans/components-protocol.md,
C-M2). The words are pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from drills.components import _mongo_status as mongo
from drills.components._effective_words import gaps_text
from drills.components._legacy_stack import TIMEOUT_S, LegacyStack, endpoints
from drills.components._mongo_spec import MongoSpec
from drills.components._mongo_topology import GROUP, read_status
from drills.components.base import Live
from drills.core.effective_config import READ, Fact, Part, absent, not_read

PART = "mongo"


def describe(part: Part) -> str:
    s, st = part.settings, part.state
    head = "MongoDB" + (f" {s['version']}" if s.get("version") else "")
    states = ", ".join(f"{m['state']} {m['member']}" for m in st.get("members") or [])
    return f"{head}, replica set {s.get('replica_set')} of {s.get('members')} members: {states}" + gaps_text(part)


FACTS: tuple[Fact, ...] = (
    Fact("mongo.members", "number", "mongo", ("members",), "", "members of the MongoDB replica set"),
)


# ---- the reader ----------------------------------------------------------------------------------

def _mongo_version(endpoint: tuple[str, int], user: str, password: str, timeout_s: float) -> str:
    import pymongo

    ms = int(timeout_s * 1000)
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        endpoint[0], endpoint[1], directConnection=True, username=user, password=password, authSource="admin",
        serverSelectionTimeoutMS=ms, connectTimeoutMS=ms, socketTimeoutMS=ms)
    try:
        return str(client.admin.command("buildInfo").get("version"))
    finally:
        client.close()


def read_mongo(stack: LegacyStack, snap: Mapping[str, Any], timeout_s: float = TIMEOUT_S,
               live: Live | None = None) -> Part:
    """The part, from the replica set's status and the first member's buildInfo."""
    nodes = stack.members(snap, GROUP)
    if not nodes:
        return absent(stack.settings.not_run(GROUP) or "no MongoDB service in this stack")
    status = read_status(stack, snap)
    if status.error is not None:
        return not_read(status.error)
    settings: dict[str, Any] = {"replica_set": mongo.REPLICA_SET, "members": len(status.members)}
    gaps: dict[str, str] = {}
    eps = endpoints(snap, nodes, stack.definition.component(GROUP, MongoSpec).port)
    try:
        spec = stack.definition.spec.components.mongo
        settings["version"] = _mongo_version(next(iter(eps.values())), spec.root_user if spec is not None else "root",
                                             stack.settings.secrets.mongo_root_password,
                                             timeout_s)
    except Exception as exc:  # pymongo errors, no endpoint: recorded as not read
        gaps["version"] = f"buildInfo: {str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}"
    state = {"primary": status.primary,
             "members": [{"member": m.service or m.host, "state": m.state} for m in status.members]}
    return Part(READ, settings=settings, state=state, not_read=gaps)


def defined(stack: LegacyStack, services: Sequence[str]) -> list[str]:
    """The part's services among those Compose defines."""
    return stack.settings.roles.members(GROUP, services)
