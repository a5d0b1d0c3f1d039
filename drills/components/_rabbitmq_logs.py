"""What RabbitMQ 3.10 logs when its cluster splits, pauses, heals, loses or regains a node, or a
quorum queue elects a leader (`rabbit_node_monitor`, mnesia, quorum queues): the RabbitMQ adapter's
log patterns, kept here until that adapter module exists (docs/plans/components-protocol.md, C-R2);
the registry lists them under `LEGACY_LOGS`.
"""

from __future__ import annotations

import re

from drills.components.base import LogPattern

SOFTWARE = "rabbitmq"
NODE_S = 5.0  # a node's down/up, logged by every peer that saw it: one event per node within this


def _p(kind: str, regex: str, subject: int = 0, repeat_s: float = 2.0) -> LogPattern:
    return LogPattern(SOFTWARE, kind, re.compile(regex), subject, repeat_s)


PATTERNS: tuple[LogPattern, ...] = (
    _p("partition", r"Partial partition detected"),
    _p("partition", r"Partial partition disconnect from (\S+)", subject=1),
    _p("partition", r"inconsistent_database,\s*running_partitioned_network,\s*'?([^'}\s]+)", subject=1),
    _p("paused", r"Cluster minority/secondary status detected - awaiting recovery"),
    _p("autoheal", r"Autoheal: .*"),
    _p("node-down", r"rabbit on node '?([^'\s]+?)'? down", subject=1, repeat_s=NODE_S),
    _p("node-down", r"(?:^|\s)node '?([^'\s]+?)'? down(?::|\s*$)", subject=1, repeat_s=NODE_S),
    _p("node-up", r"rabbit on node '?([^'\s]+?)'? up", subject=1, repeat_s=NODE_S),
    _p("node-up", r"(?:^|\s)node '?([^'\s]+?)'? up\s*$", subject=1, repeat_s=NODE_S),
    _p("queue-leader", r"queue '([^']+)' in vhost '[^']*': candidate -> leader in term", subject=1),
)
