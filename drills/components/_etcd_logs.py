"""What etcd's raft logs when leadership moves (etcd 3.4, in capnslog "raft2026/12/04 ... INFO:
<id> became leader at term 2" or zap JSON): the etcd adapter's log patterns, kept here until that
adapter module exists (docs/plans/components-protocol.md, C-E1); the registry lists them under
`LEGACY_LOGS`.
"""

from __future__ import annotations

import re

from drills.components.base import LogPattern

SOFTWARE = "etcd"

PATTERNS: tuple[LogPattern, ...] = (
    LogPattern(SOFTWARE, "leader-elected", re.compile(r"\b([0-9a-f]+) became leader at term (\d+)"), subject=1),
    LogPattern(SOFTWARE, "leader-lost", re.compile(r"\b[0-9a-f]+ lost leader ([0-9a-f]+) at term \d+"), subject=1),
    LogPattern(SOFTWARE, "election", re.compile(r"\b[0-9a-f]+ is starting a new election at term \d+")),
)
