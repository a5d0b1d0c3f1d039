"""RabbitMQ's effective configuration: the partition handling read from the configuration files a
node booted with, the part in words, the facts `assumes:` may name of it, and its reader
(`read_rabbitmq`: the management API, and the configuration files of one running node), which the
registry's legacy effective table lists until the RabbitMQ adapter reads it
(plans/components-protocol.md, C-R2). `parse_*` and the words are pure.

    RabbitMQ 3.10.8 (Erlang 25.2.3), 3 nodes, 3 running: net_ticktime 10 s, cluster_partition_handling
        pause_minority; queues notifications quorum (3 members, leader rabbit2), ...
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from drills.components import _rabbitmq_api as rabbitmq
from drills.components._effective_words import gaps_text, value_text
from drills.components._legacy_stack import TIMEOUT_S, LegacyStack
from drills.components._rabbitmq_topology import GROUP, management
from drills.components.base import Live
from drills.core.effective_config import READ, Fact, Part, absent, not_read

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


# ---- the reader ----------------------------------------------------------------------------------

def parse_rabbitmq(overview: Mapping[str, Any], nodes: Iterable[Mapping[str, Any]],
                   queues: Iterable[Mapping[str, Any]]) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """(settings, state, not read) from `/api/overview`, `/api/nodes` and `/api/queues/<vhost>`."""
    node_docs = sorted(nodes, key=lambda n: str(n.get("name")))
    gaps: dict[str, str] = {}
    ticks = {rabbitmq.node_service(str(n["name"])): n["net_ticktime"] for n in node_docs
             if isinstance(n.get("net_ticktime"), int)}
    distinct = set(ticks.values())
    settings: dict[str, Any] = {"version": overview.get("rabbitmq_version"), "erlang": overview.get("erlang_version"),
                                "nodes": [rabbitmq.node_service(str(n["name"])) for n in node_docs]}
    if not ticks:
        gaps["net_ticktime_s"] = "the management API's /api/nodes gave no net_ticktime"
    else:
        settings["net_ticktime_s"] = distinct.pop() if len(distinct) == 1 else ticks
    for key in ("version", "erlang"):
        if settings[key] is None:
            del settings[key]
            gaps[key] = "not in /api/overview"
    queue_settings: dict[str, Any] = {}
    queue_state: dict[str, Any] = {}
    by_name = {str(q["name"]): q for q in queues}
    for q in rabbitmq.parse_queues(by_name.values()):
        doc = by_name[q.name]
        queue_settings[q.name] = {"type": q.type, "durable": bool(doc.get("durable")),
                                  "arguments": dict(doc.get("arguments") or {}), "policy": doc.get("policy"),
                                  "members": len(q.members) if q.type == "quorum" else None}
        queue_state[q.name] = {"leader": rabbitmq.node_service(q.leader) if q.leader else None,
                               "online": [rabbitmq.node_service(m) for m in q.online]}
    settings["queues"] = queue_settings
    state = {"running": [rabbitmq.node_service(str(n["name"])) for n in node_docs if n.get("running")],
             "queues": queue_state}
    return settings, state, gaps


def _config_files(stack: LegacyStack, snap: Mapping[str, Any], container_id: str,
                  paths: Sequence[str]) -> dict[str, str]:
    """Each file's content, read inside the node's container (raises OSError naming what failed)."""
    container = stack.live(snap).client.containers.get(container_id)
    files = {}
    for path in paths:
        done = container.exec_run(["cat", path])
        output = done.output.decode(errors="replace") if isinstance(done.output, bytes) else str(done.output)
        if done.exit_code != 0:
            raise OSError(f"cat {path} exited {done.exit_code}: {output.strip()[-200:]}")
        files[path] = output
    return files


def read_rabbitmq(stack: LegacyStack, snap: Mapping[str, Any], timeout_s: float = TIMEOUT_S,
                  live: Live | None = None) -> Part:
    """The part, from the management API and the configuration files of one running node."""
    nodes = stack.members(snap, GROUP)
    if not nodes:
        return absent("no RabbitMQ service in this stack")
    api = management(stack, snap)
    if not api.endpoints:
        return not_read(f"no RabbitMQ node ({', '.join(nodes)}) is running with its management API published")
    vhost = "%2F"
    try:
        overview = api.request("GET", "overview?columns=rabbitmq_version,erlang_version", timeout_s=timeout_s)
        node_docs = api.request("GET", "nodes?columns=name,running,net_ticktime,config_files", timeout_s=timeout_s)
        queues = api.request("GET", f"queues/{vhost}?columns=name,type,leader,node,members,online,state,durable,"
                                    "arguments,policy", timeout_s=timeout_s)
    except OSError as exc:
        return not_read(f"RabbitMQ's management API: {exc}")
    settings, state, gaps = parse_rabbitmq(overview or {}, node_docs or [], queues or [])
    running = [rabbitmq.node_service(str(n["name"])) for n in node_docs or [] if n.get("running")]
    asked = next((s for s in running if s in snap and snap[s].state == "running"), None)
    if asked is None:
        gaps["cluster_partition_handling"] = "no running RabbitMQ node to ask"
    else:
        paths = next(n.get("config_files") or [] for n in node_docs if rabbitmq.node_service(str(n["name"])) == asked)
        try:
            value, where = parse_partition_handling(_config_files(stack, snap, snap[asked].container_id, paths))
        except Exception as exc:  # docker errors, OSError, ValueError: recorded as not read
            gaps["cluster_partition_handling"] = f"not in the management API; {asked}'s configuration: {exc}"
        else:
            settings["cluster_partition_handling"] = value
            state["cluster_partition_handling_from"] = f"{asked}: {where}"
    return Part(READ, settings=settings, state=state, not_read=gaps)


def defined(stack: LegacyStack, services: Sequence[str]) -> list[str]:
    """The part's services among those Compose defines."""
    return stack.settings.roles.members(GROUP, services)
