"""HAProxy's stats page, as CSV (`<stats_path>;csv` on the balancer's published port): the one
reader of it, for `drill stack status` (`drills.stack.loadbalancer`, through `_stack_specs`) and the
effective configuration's balancer part (`_haproxy_effective`). It goes into HAProxy's adapter
(plans/components-protocol.md, C-H1).
"""

from __future__ import annotations

import csv
import io
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol


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


@dataclass(frozen=True)
class Backend:
    server: str  # dashboard1
    status: str  # UP, DOWN, MAINT, "UP 1/2" (going down), "no check"
    check: str  # the last check's result, e.g. L7OK, L4CON

    @property
    def up(self) -> bool:
        return self.status == "UP"


def parse_stats(text: str, backend: str) -> tuple[Backend, ...]:
    """The servers of `backend` from HAProxy's stats CSV (header line starts with `# `)."""
    rows = csv.DictReader(io.StringIO(text.removeprefix("# ")))
    return tuple(Backend(r["svname"], r.get("status", ""), r.get("check_status", ""))
                 for r in rows if r.get("pxname") == backend and r.get("svname") not in ("FRONTEND", "BACKEND"))


def read_stats(snap: Mapping[str, Any], http: HaproxyEntry, timeout_s: float) -> tuple[Backend, ...]:
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
