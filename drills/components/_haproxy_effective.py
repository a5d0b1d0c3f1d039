"""HAProxy's backends in words, as its stats list them, and the balancer part's reader
(`read_balancer`), which the registry's legacy effective table lists until HAProxy has an adapter
(plans/components-protocol.md, C-H1). A balancer whose adapter is in `drills.components` (nginx)
is read by that adapter. The words are pure.

The stats are read by `_haproxy_stats`, as `drill stack status` reads them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from drills.components._effective_words import gaps_text
from drills.components._haproxy_stats import HaproxyEntry, read_stats
from drills.components._legacy_stack import TIMEOUT_S, LegacyStack
from drills.components.base import Adapter, BalancerSpec, Live
from drills.core.effective_config import READ, Part, absent, not_read

PART = "balancer"


def describe(part: Part) -> str:
    s, backends = part.settings, (part.state.get("backends") or {})
    shown = ", ".join(f"{server} {backends.get(server, 'not listed')}" for server in s.get("servers") or [])
    return f"{s.get('balancer')}, backend {s.get('backend')}: {shown}" + gaps_text(part)


# ---- the reader ----------------------------------------------------------------------------------

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
        backends = [(b.server, b.status) for b in read_stats(snap, http, timeout_s)]
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

