"""The effective configuration of a live stack: what was drilled, read back from the running system.

A stack file or an override says what an operator meant; the running system says what holds
(`drills.stack.effective_sources` runs each kind's reader of `drills.components`: a cluster
manager's dynamic configuration, the database's own settings, the queues' real types, the
balancer's backends), with how many instances of each role are defined and running and the
images they run. Every source is read beside the others and fails on its own
(`drills.core.effective_config`: read, not read with why, or absent).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Any

from drills.components import registry
from drills.core.effective_config import ABSENT, INSTANCES, READ, EffectiveConfig, Part, not_read
from drills.core.roles import CLIENTS
from drills.stack.definition import RoleMap, order
from drills.stack.effective_sources import SOURCES, TIMEOUT_S, EffectiveStack
from drills.stack.effective_text import PARTS

if TYPE_CHECKING:
    from drills.stack.services import ServiceInfo

def roles_of(services: Iterable[str], role_map: RoleMap) -> dict[str, list[str]]:
    """role -> its services: every role of the stack's map; a service in none counts alone, or with
    the services of its name's stem where the map is empty (settings made by hand)."""
    names = order(services)
    # `clients` is every service a fault on "the clients" touches: it overlaps the app's own roles.
    roles = {role: found for role in role_map.roles
             if role != CLIENTS and (found := role_map.members(role, names))}
    grouped = {s for found in roles.values() for s in found}
    for s in names:
        if s not in grouped:
            roles.setdefault(s if role_map.roles else s.rstrip("0123456789") or s, []).append(s)
    return roles


def instances(defined: Sequence[str] | None, snap: Mapping[str, ServiceInfo], role_map: RoleMap,
              why_not: str = "") -> Part:
    """How many instances of each role Compose defines and how many run, and the images they run.
    `defined` None: Compose could not say (`why_not`); the containers' own count is kept."""
    running = [s for s, info in snap.items() if info.state == "running"]
    roles = roles_of([*(defined or ()), *snap], role_map)
    counts: dict[str, Any] = {}
    for role, services in roles.items():
        counts[role] = {"defined": None if defined is None else sum(1 for s in services if s in defined),
                        "running": sum(1 for s in services if s in running)}
    images: dict[str, list[str]] = {}
    for s, info in sorted(snap.items()):
        label = info.image + (f" ({info.image_id.removeprefix('sha256:')[:12]})" if info.image_id else "")
        images.setdefault(label or "unknown", []).append(s)
    gaps = {"defined": why_not} if defined is None else {}
    return Part(READ, settings={"defined": {r: c["defined"] for r, c in counts.items()}, "images": images},
                state={"running": {r: c["running"] for r, c in counts.items()}}, not_read=gaps)


def _guarded(read: Callable[[], Part]) -> Part:
    """A reader that raised is a part not read, with why: never a missing part."""
    try:
        return read()
    except Exception as exc:
        return not_read(f"{type(exc).__name__}: {str(exc)[:300]}")


def read_effective(stack: EffectiveStack, timeout_s: float = TIMEOUT_S) -> EffectiveConfig:
    """Every part, read concurrently; each failing on its own (see the module's docstring)."""
    t0 = time.monotonic()
    try:
        snap = stack.snapshot()
    except Exception as exc:  # the engine itself did not answer: nothing could be read
        why = f"the stack's containers could not be listed: {exc}"
        return EffectiveConfig({name: not_read(why) for name in PARTS}, time.monotonic() - t0, declared(stack))
    with ThreadPoolExecutor(max_workers=len(PARTS)) as pool:
        defined = pool.submit(stack.defined_services)
        # One reader per component part; bound to its name now (a lambda in the loop would read the last).
        futures = {name: pool.submit(_guarded, partial(SOURCES[name].read, stack, snap, timeout_s))
                   for name in registry.EFFECTIVE_PARTS}
        parts = {name: f.result() for name, f in futures.items()}
        try:
            names: tuple[str, ...] | None = defined.result()
            why = ""
        except Exception as exc:
            names, why = None, f"docker compose config: {str(exc)[:300]}"
    parts[INSTANCES] = _guarded(lambda: instances(names, snap, stack.settings.roles, why))
    if names is not None:
        parts = {name: _defined_but_gone(stack, name, part, names) for name, part in parts.items()}
    return EffectiveConfig({name: parts[name] for name in PARTS}, time.monotonic() - t0, declared(stack))


def declared(stack: EffectiveStack) -> dict[str, Any]:
    """Which stack file and Compose files (overrides last) the stack was brought up from."""
    try:
        definition = stack.definition
        return {"name": definition.name, "file": str(definition.path),
                "compose_files": [str(f) for f in definition.compose_files()]}
    except Exception as exc:  # a saved stack whose definition cannot be rebuilt
        return {"not_read": f"{type(exc).__name__}: {str(exc)[:200]}"}


def _defined_but_gone(stack: EffectiveStack, name: str, part: Part, defined: Sequence[str]) -> Part:
    """A component Compose defines whose containers are all gone is not absent: it was not read."""
    if part.status != ABSENT:
        return part
    nodes = SOURCES[name].defined(stack, defined) if name in SOURCES else []
    return not_read(f"its services ({', '.join(nodes)}) have no container") if nodes else part


