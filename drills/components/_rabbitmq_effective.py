"""RabbitMQ's effective configuration: the partition handling read from the configuration files a
node booted with, the part in words, and the facts `assumes:` may name of it. Read by
`drills.stack.effective_sources` until the RabbitMQ adapter reads it (plans/components-protocol.md,
C-R2). Pure.

    RabbitMQ 3.10.8 (Erlang 25.2.3), 3 nodes, 3 running: net_ticktime 10 s, cluster_partition_handling
        pause_minority; queues notifications quorum (3 members, leader rabbit2), ...
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from drills.components._effective_words import gaps_text, value_text
from drills.core.effective_config import Fact, Part

PART = "rabbitmq"
DEFAULT_PARTITION_HANDLING = "ignore"

_CONF_KEY = re.compile(r"^\s*cluster_partition_handling\s*=\s*(\S+)", re.M)


def parse_partition_handling(files: Mapping[str, str]) -> tuple[str, str]:
    """(value, where) from the configuration files a node reports it booted with (`config_files` of
    `/api/nodes`: path -> content). The management API does not expose the value itself, and asking
    the broker (`rabbitmqctl eval`) starts an Erlang VM: seconds on a loaded machine. Not set in any
    `.conf` file: RabbitMQ's default, unless an advanced.config (Erlang terms, not parsed) could set
    it: ValueError then, read as not read."""
    for path, text in files.items():
        found = _CONF_KEY.findall(text) if not path.endswith(".config") else []
        if found:
            return found[-1], path  # the last assignment wins, as in RabbitMQ's own parsing
    if not files:  # no statistics from the node yet (just booted, loaded machine): not read, never the default
        raise ValueError("the node reports no configuration file (yet): its statistics are not in")
    if any(path.endswith(".config") for path in files):
        raise ValueError(f"not set in a .conf file; {', '.join(p for p in files if p.endswith('.config'))} "
                         "(Erlang terms) is not parsed")
    where = ", ".join(files)
    return DEFAULT_PARTITION_HANDLING, f"RabbitMQ's default (not set in {where})"


def describe(part: Part) -> str:
    """The version, the nodes, the settings that decide a partition's outcome, and each queue."""
    s, st = part.settings, part.state
    head = "RabbitMQ" + (f" {s['version']}" if s.get("version") else "")
    head += f" (Erlang {s['erlang']})" if s.get("erlang") else ""
    nodes = s.get("nodes") or []
    head += f", {len(nodes)} nodes, {len(st.get('running') or [])} running"
    items = []
    if "net_ticktime_s" in s:
        items.append(f"net_ticktime {value_text(s['net_ticktime_s'])} s")
    if "cluster_partition_handling" in s:
        items.append(f"cluster_partition_handling {s['cluster_partition_handling']}")
    queues = []
    queue_state: Mapping[str, Any] = st.get("queues") or {}
    for name, q in (s.get("queues") or {}).items():
        detail = [f"{q['members']} members"] if q.get("members") is not None else []
        leader = (queue_state.get(name) or {}).get("leader")
        if q.get("type") == "classic":  # lives on one node, which leads nothing
            detail.append(f"on {leader}" if leader else "no node")
        else:
            detail.append(f"leader {leader}" if leader else "no leader")
        queues.append(f"{name} {q.get('type')} ({', '.join(detail)})")
    text = f"{head}: {', '.join(items)}" if items else head
    return text + (f"; queues {', '.join(queues)}" if queues else "; no queue declared") + gaps_text(part)


FACTS: tuple[Fact, ...] = (
    Fact("rabbitmq.net_ticktime_s", "number", "rabbitmq", ("net_ticktime_s",), "net_ticktime_s",
         "seconds of silence (x 1 to 1.25) before an Erlang node takes a peer for down (every node's must hold)"),
    Fact("rabbitmq.cluster_partition_handling", "word", "rabbitmq", ("cluster_partition_handling",),
         "cluster_partition_handling", "what a RabbitMQ node does on a partition: pause_minority, autoheal, ignore"),
    Fact("rabbitmq.queues.<queue>.type", "word", "rabbitmq", ("queues", "<queue>", "type"), "",
         "the type of the named queue as the broker runs it: quorum, classic, stream"),
    Fact("rabbitmq.queues.<queue>.members", "number", "rabbitmq", ("queues", "<queue>", "members"), "",
         "how many members the named quorum queue has"),
)
