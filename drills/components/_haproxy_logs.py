"""What HAProxy logs of its health checks (each message twice: on stderr and again through `log
stdout`; the extractor folds the second): the HAProxy adapter's log patterns, kept here until that
adapter module exists (docs/plans/components-protocol.md, C-H1); the registry lists them under
`LEGACY_LOGS`.
"""

from __future__ import annotations

import re

from drills.components.base import LogPattern

SOFTWARE = "haproxy"

PATTERNS: tuple[LogPattern, ...] = (
    LogPattern(SOFTWARE, "server-down", re.compile(r"Server (\S+/\S+)(?: \('[^']*'\))? is DOWN"), subject=1),
    LogPattern(SOFTWARE, "server-up", re.compile(r"Server (\S+/\S+)(?: \('[^']*'\))? is UP"), subject=1),
    LogPattern(SOFTWARE, "backend-down", re.compile(r"backend '?([^'\s]+)'? has no server available"), subject=1),
)
