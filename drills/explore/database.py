"""Where `drill explore` keeps its example database, and what it holds for one exploration on one
stack: the failing schedules earlier searches kept, which the next search replays first.

    root = database_root(given)                      --database DIR, or the state directory's
    kept = kept_failures(root, exploration_id, key)  how many a search will replay before drawing

The database is Hypothesis's (`DirectoryBasedExampleDatabase`, one folder per exploration), so a
CI job keeps it between nights by caching the root folder. Hypothesis replays what it kept before it
generates anything (its reuse phase), each failure kept under the search's key
(`drills.explore.search`): the exploration and the stack it failed on.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis.database import DirectoryBasedExampleDatabase

__all__ = ["database_key", "database_root", "kept_failures"]


def database_root(given: Path | None) -> Path:
    """The folder holding every exploration's database: `given`, or the state directory's."""
    if given is not None:
        return given
    from drills.core.local_state import state_dir

    return state_dir() / "explore"


def database_key(exploration_id: str, stack_key: str) -> bytes:
    """The key a search keeps its failures under (as drills.explore.search.search makes it)."""
    return f"drills-explore:{exploration_id}{':' + stack_key if stack_key else ''}".encode()


def kept_failures(root: Path, exploration_id: str, stack_key: str) -> int:
    """How many failing schedules the database keeps for this exploration on this stack: the ones
    found minimal, and those kept while a shrink was cut short (Hypothesis's secondary key)."""
    folder = root / exploration_id
    if not folder.is_dir():
        return 0
    database = DirectoryBasedExampleDatabase(str(folder))
    key = database_key(exploration_id, stack_key)
    return len({*database.fetch(key), *database.fetch(key + b".secondary")})
