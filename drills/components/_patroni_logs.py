"""What Patroni logs when it acts (Patroni 3.0.2's `ha.py`, the HA loop's messages): the log
patterns of the Patroni adapter, kept here until that adapter module exists (docs/plans/
components-protocol.md, C-P2); the registry lists them under `LEGACY_LOGS`.

The lines each pattern was taken from are `tests/unit/test_log_events.py`'s samples.
"""

from __future__ import annotations

import re

from drills.components.base import LogPattern

SOFTWARE = "patroni"
STATE_S = 30.0  # a state logged on every HA loop: again an event only after this much silence
SYNC_S = 5.0


def _p(kind: str, regex: str, subject: int = 0, repeat_s: float = 2.0) -> LogPattern:
    return LogPattern(SOFTWARE, kind, re.compile(regex), subject, repeat_s)


PATTERNS: tuple[LogPattern, ...] = (
    _p("promoted", r"promoted self to (?:a standby )?leader by acquiring session lock"),
    # The leader's postgres restarted while it still held the lock (no failover: the same node).
    _p("promoted", r"promoted self to (?:a standby )?leader because (?i:i) had the session lock"),
    _p("lock-taken", r"acquired session lock as a leader"),
    _p("leader-restart", r"starting as (?:readonly|a standby leader) because i had the session lock"),
    # "demoting self because I do not have the lock and I was a leader", "... DCS is not accessible
    # ...", "demoted self because failed to update leader lock in DCS", "Demoting self because crash
    # recovery is taking too long"; not "Demoting self (immediate-nolock)", the same demotion's detail.
    _p("demoted", r"(?i)\bdemot(?:ing|ed) self\b(?! \()"),
    # Who holds the leader lock, as each node sees it on every HA loop: an event when it changes.
    _p("lock-owner", r"Lock owner: ([^;\s]+); I am \S+", subject=1, repeat_s=STATE_S),
    _p("lock-owner", r"no action\. I am \(([^)]+)\), the (?:standby )?leader with the lock", subject=1,
       repeat_s=STATE_S),
    _p("lock-owner", r"no action\. I am \([^)]+\), a secondary, and following a (?:standby )?leader "
       r"\(([^)]+)\)", subject=1, repeat_s=STATE_S),
    # Logged on every HA loop while this node is not the one to take over: a state.
    _p("following", r"following (?:a different|new) leader (?:because|after) .*", repeat_s=STATE_S),
    _p("sync-changed", r"Updating synchronous privilege temporarily from (.+)", subject=1, repeat_s=SYNC_S),
    _p("sync-changed", r"Assigning synchronous standby status to (.+)", subject=1, repeat_s=SYNC_S),
    _p("sync-changed", r"Synchronous standby status assigned to (.+)", subject=1, repeat_s=SYNC_S),
    _p("sync-changed", r"Disabled synchronous replication"),
    _p("sync-conflict", r"Synchronous replication key updated by someone else", repeat_s=STATE_S),
    # "running pg_rewind from pg1", then "... in progress" on each loop until it is done; not
    # rewind.py's "running pg_rewind from dbname=postgres user=... host=...", the same run's DSN.
    _p("rewind", r"running pg_rewind from ([^\s=]+)(?: in progress)?\s*$", subject=1, repeat_s=STATE_S),
    _p("lock-released", r"Leader key released"),
    _p("dcs-unreachable", r"DCS is not accessible", repeat_s=STATE_S),
)
