"""What Drills reads of a Patroni member's REST API that its spec may leave unsaid: the cluster's
scope (`GET /patroni` answers `{"patroni": {"version": ..., "scope": ...}}`), so that a stack file
names its scope only where no member can be asked."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from drills.components.httpjson import get_json

Endpoint = tuple[str, int]


def scope_of(doc: Any) -> str | None:
    """The scope in a `GET /patroni` answer, None when it holds none."""
    patroni = doc.get("patroni") if isinstance(doc, Mapping) else None
    scope = patroni.get("scope") if isinstance(patroni, Mapping) else None
    return scope if isinstance(scope, str) and scope else None


def read_scope(endpoints: Iterable[Endpoint], timeout_s: float = 1.0) -> tuple[str | None, list[str]]:
    """The scope the first answering member names, and what the others said (for the error that
    follows when none does)."""
    said: list[str] = []
    for host, port in endpoints:
        try:
            found = scope_of(get_json(f"http://{host}:{port}/patroni", timeout_s=timeout_s))
        except (OSError, ValueError) as exc:
            said.append(f"{host}:{port}: {exc}")
            continue
        if found is not None:
            return found, said
        said.append(f"{host}:{port}: GET /patroni names no scope")
    return None, said
