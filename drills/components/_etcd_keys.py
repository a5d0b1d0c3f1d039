"""Deleting a key prefix from etcd's v3 keyspace, as Patroni's `patronictl remove` does: what a
restore into a new cluster does to make Patroni forget the old one.

Through etcd's own JSON gateway (`POST /v3/kv/deleterange`, keys base64-encoded), which every etcd
3.4+ serves on its client port: from the host, so the etcd image needs no tool; or, where the host
reaches no etcd member, by `curl` inside one (`delete_argv`).
"""

from __future__ import annotations

import base64
import json

from drills.components.httpjson import request_json

Endpoint = tuple[str, int]


def range_end(prefix: str) -> bytes:
    """The key just past every key starting with `prefix` (etcd's range end for a prefix): its last
    byte plus one."""
    raw = prefix.encode()
    if not raw or raw[-1] == 0xFF:
        raise ValueError(f"no range end for the prefix {prefix!r}")
    return raw[:-1] + bytes([raw[-1] + 1])


def deleterange_body(prefix: str) -> dict[str, str]:
    """The request body that deletes every key under `prefix`."""
    return {"key": base64.b64encode(prefix.encode()).decode(),
            "range_end": base64.b64encode(range_end(prefix)).decode()}


def delete_prefix(endpoint: Endpoint, prefix: str, timeout_s: float = 5.0) -> int:
    """Delete every key under `prefix` through the member at `endpoint`; how many there were.
    OSError when the member does not answer or refuses."""
    host, port = endpoint
    status, doc = request_json("POST", f"http://{host}:{port}/v3/kv/deleterange", body=deleterange_body(prefix),
                               timeout_s=timeout_s)
    if status != 200 or not isinstance(doc, dict):
        raise OSError(f"etcd at {host}:{port}: POST /v3/kv/deleterange: HTTP {status} {doc!r}"[:300])
    return int(doc.get("deleted") or 0)  # the gateway writes int64 as a string; absent when none was


def delete_argv(client_port: int, prefix: str, timeout_s: float = 5.0) -> list[str]:
    """The same request by `curl` inside an etcd member (its own client port on 127.0.0.1)."""
    return ["curl", "-fsS", "--max-time", f"{timeout_s:g}", "-X", "POST",
            f"http://127.0.0.1:{client_port}/v3/kv/deleterange", "-d", json.dumps(deleterange_body(prefix))]
