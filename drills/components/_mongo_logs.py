"""What MongoDB logs when its replica set changes primary (its structured JSON log: the `msg`
field): the MongoDB adapter's log patterns, kept here until that adapter module exists
(docs/plans/components-protocol.md, C-M2); the registry lists them under `LEGACY_LOGS`.
"""

from __future__ import annotations

import re

from drills.components.base import LogPattern

SOFTWARE = "mongo"

PATTERNS: tuple[LogPattern, ...] = (
    LogPattern(SOFTWARE, "promoted", re.compile(r"(?i)transition to primary complete")),
    LogPattern(SOFTWARE, "demoted", re.compile(r'"msg":"Replica set state transition".*"oldState":"PRIMARY"')),
    LogPattern(SOFTWARE, "election", re.compile(r'"msg":"Starting an election')),
)
