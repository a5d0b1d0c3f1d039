"""Tiny JSON-over-HTTP client for the stack's admin APIs (Patroni REST, RabbitMQ management).

The standard library is enough, and short timeouts matter more than features: these calls run
during faults, against nodes that may be frozen or cut off.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any

DEFAULT_TIMEOUT_S = 2.0


def request_json(method: str, url: str, *, auth: tuple[str, str] | None = None, body: Any = None,
                 timeout_s: float = DEFAULT_TIMEOUT_S) -> tuple[int, Any]:
    """(status, decoded body or None). HTTP error statuses are returned, not raised: Patroni answers
    503 with a useful body (a replica asked `/primary`)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def get_json(url: str, *, auth: tuple[str, str] | None = None, timeout_s: float = DEFAULT_TIMEOUT_S) -> Any:
    """The decoded body of a 2xx answer; OSError (URLError is one) otherwise."""
    status, doc = request_json("GET", url, auth=auth, timeout_s=timeout_s)
    if not 200 <= status < 300:
        raise OSError(f"GET {url}: HTTP {status}")
    return doc
