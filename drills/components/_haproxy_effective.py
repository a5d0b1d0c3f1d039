"""HAProxy's backends in words, as its stats list them, and the balancer part's reader
(`read_balancer`), which the registry's legacy effective table lists until HAProxy has an adapter
(plans/components-protocol.md, C-H1). A balancer whose adapter is in `drills.components` (nginx)
is read by that adapter. The words are pure.

The stats are read as `drills.stack.loadbalancer` reads them for `drill stack status` (the same
URL, CSV and errors): C-H1 keeps one of the two, in HAProxy's adapter.
"""

from __future__ import annotations

import csv
import io
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from drills.components._effective_words import gaps_text
from drills.components._legacy_stack import TIMEOUT_S, LegacyStack
from drills.components.base import Adapter, BalancerSpec, Live
from drills.core.effective_config import READ, Part, absent, not_read

PART = "balancer"


class HaproxyEntry(Protocol):
    """The stack file's HAProxy balancer (`drills.stack.definition.HttpSpec`), by the fields read here."""

    @property
    def adapter(self) -> str: ...
    @property
    def balancer(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def backend(self) -> str: ...
    @property
    def stats_path(self) -> str: ...


def describe(part: Part) -> str:
    s, backends = part.settings, (part.state.get("backends") or {})
    shown = ", ".join(f"{server} {backends.get(server, 'not listed')}" for server in s.get("servers") or [])
    return f"{s.get('balancer')}, backend {s.get('backend')}: {shown}" + gaps_text(part)


# ---- the reader ----------------------------------------------------------------------------------

def parse_stats(text: str, backend: str) -> list[tuple[str, str]]:
    """(server, status) of each server of `backend` in HAProxy's stats CSV (header starts `# `)."""
    rows = csv.DictReader(io.StringIO(text.removeprefix("# ")))
    return [(r["svname"], r.get("status", "")) for r in rows
            if r.get("pxname") == backend and r.get("svname") not in ("FRONTEND", "BACKEND")]


def _stats(snap: Mapping[str, Any], http: HaproxyEntry, timeout_s: float) -> list[tuple[str, str]]:
    """The backend's servers from the balancer's stats page; OSError saying where it was asked."""
    info = snap.get(http.balancer)
    if info is None or info.state != "running" or http.port not in info.ports:
        raise OSError(f"{http.balancer} is not running")
    url = f"http://127.0.0.1:{info.ports[http.port]}{http.stats_path};csv"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            text = resp.read().decode()
    except (OSError, urllib.error.URLError) as exc:
        raise OSError(f"{url}: {exc}") from exc
    return parse_stats(text, http.backend)


def read_balancer(snap: Mapping[str, Any], http: HaproxyEntry | BalancerSpec | None,
                  timeout_s: float = TIMEOUT_S, live: Live | None = None,
                  adapter: Adapter[Any] | None = None) -> Part:
    """The backends in rotation, as the stack file's balancer (`components: http:`) reports them;
    for a balancer whose adapter is in `drills.components` (`adapter`: the registry's, as the stack
    file binds it), what that adapter reads of it (`live`: the stack, `drills.stack.live.as_live`)."""
    if http is None:
        return absent("the stack file declares no balancer (no http component)")
    if http.balancer not in snap:
        return absent(f"no container of the balancer {http.balancer}")
    if isinstance(http, BalancerSpec):  # HAProxy's entry is the stack file's own model, not an adapter's
        if adapter is None:
            raise ValueError(f"balancer adapter {http.adapter}: the caller passes its adapter")
        if adapter.effective is None or live is None:
            return not_read(f"{adapter.label}: " + ("its adapter reads no configuration" if adapter.effective is None
                                                    else "no stack to read it from"))
        return adapter.effective.read(http, live, timeout_s)
    try:
        backends = _stats(snap, http, timeout_s)
    except OSError as exc:
        return not_read(f"HAProxy's stats: {exc}")
    if not backends:
        return not_read(f"HAProxy's stats list no server of the backend {http.backend}")
    return Part(READ, settings={"balancer": http.balancer, "backend": http.backend,
                                "servers": [server for server, _ in backends]},
                state={"backends": dict(backends)})


def read(stack: LegacyStack, snap: Mapping[str, Any], timeout_s: float = TIMEOUT_S,
         live: Live | None = None) -> Part:
    """The part of the stack file's balancer, read by its adapter where it has one."""
    bound = stack.definition.bound().get("http")
    return read_balancer(snap, stack.definition.spec.components.http, timeout_s, live,
                         bound.adapter if bound is not None else None)


def defined(stack: LegacyStack, services: Sequence[str]) -> list[str]:
    """The balancer's service, where Compose defines it."""
    http = stack.definition.spec.components.http
    return [http.balancer] if http is not None and http.balancer in services else []

