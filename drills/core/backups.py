"""Backup and restore records (`Backup`, `Restore`, the `Digest` of what they hold). Pure.

Here, below the component adapters that take and restore backups (`drills.components`), so that
they and the checkers (which may not import an adapter) build and read the same records;
`drills.backup.model` is where the rest of Drills finds them, with how they travel through the
history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Digest:
    """What a data set holds: how many rows (documents, definitions), the highest seq, a checksum."""

    rows: int
    max_seq: int | None
    checksum: str


@dataclass(frozen=True)
class Backup:
    id: str
    component: str  # postgres | mongo | rabbitmq
    method: str  # dump | snapshot
    started_s: float
    ended_s: float
    ok: bool
    point_s: float | None = None
    rows: int | None = None
    max_seq: int | None = None
    checksum: str | None = None
    source: str = ""  # the node it was taken from
    location: str = ""  # a host path or a volume:path
    size_bytes: int | None = None
    error: str | None = None
    due_s: float | None = None
    # Where the content was on its source node (a disk snapshot's data directory): where a restore
    # puts it back, read when the backup was taken because after a total failure nothing can say it.
    source_path: str = ""

    @property
    def duration_s(self) -> float:
        return self.ended_s - self.started_s

    @property
    def slot_s(self) -> float:
        """When the schedule wanted it: its slot, or its start where no slot was recorded."""
        return self.started_s if self.due_s is None else self.due_s

    @property
    def digest(self) -> Digest | None:
        if self.rows is None or self.checksum is None:
            return None
        return Digest(self.rows, self.max_seq, self.checksum)

    def to_event_data(self) -> dict[str, Any]:
        data = asdict(self)
        data["duration_s"] = round(self.duration_s, 3)
        return data

    @classmethod
    def from_event_data(cls, data: Mapping[str, Any]) -> Backup:
        """The inverse of `to_event_data`; raises ValueError on a record it cannot read."""
        try:
            return cls(
                id=str(data["id"]), component=str(data["component"]), method=str(data["method"]),
                started_s=float(data["started_s"]), ended_s=float(data["ended_s"]), ok=bool(data["ok"]),
                point_s=_opt_float(data.get("point_s")), rows=_opt_int(data.get("rows")),
                max_seq=_opt_int(data.get("max_seq")),
                checksum=None if data.get("checksum") is None else str(data["checksum"]),
                source=str(data.get("source") or ""), location=str(data.get("location") or ""),
                size_bytes=_opt_int(data.get("size_bytes")),
                error=None if data.get("error") is None else str(data["error"]),
                due_s=_opt_float(data.get("due_s")), source_path=str(data.get("source_path") or ""),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a backup record: {exc}") from None


@dataclass(frozen=True)
class Restore:
    """One restore of a backup into a new cluster: started, ended, and what it put back."""

    backup_id: str
    component: str
    method: str
    started_s: float
    ended_s: float | None = None  # None: it never finished
    ok: bool = False
    rows: int | None = None
    max_seq: int | None = None
    checksum: str | None = None
    error: str | None = None
    steps_s: dict[str, float] = field(default_factory=dict)  # e.g. new-cluster, load, verify

    @property
    def digest(self) -> Digest | None:
        if self.rows is None or self.checksum is None:
            return None
        return Digest(self.rows, self.max_seq, self.checksum)


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def parse_digest_row(row: Sequence[Any]) -> Digest:
    """(count, max seq or NULL/-1, md5 text) as the digest queries return it."""
    if len(row) != 3:
        raise ValueError(f"a digest row has 3 columns, got {len(row)}")
    rows, max_seq, checksum = row
    top = None if max_seq is None or int(max_seq) < 0 else int(max_seq)
    if not isinstance(checksum, str) or not checksum:
        raise ValueError(f"no checksum in {row!r}")
    return Digest(int(rows), top, checksum)
