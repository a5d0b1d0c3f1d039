"""Every container's log for a drill's window, kept in the run's folder, and the system's own events
read from them.

    collected = collect_logs(stack, run_dir / "logs", origin=<Unix epoch of the drill's t=0>)
    collected.events                         # SystemEvents for the history (drills.stack.log_events)

writes `logs/<service>.log` (the docker log lines, stdout and stderr merged, each with its docker
timestamp, after one `# drills:` line that says whose log it is, its window and what was cut) and
`logs/index.json` (one entry per container and per service without one: lines kept, cut, error).
The run's manifest seals them like every other artifact, so `drill verify` names an edited log.

Bounded: each container keeps the last `PER_CONTAINER_BYTES` of its window (the fault and the
recovery come late in a drill; the warm-up is what goes), and all of them together
`TOTAL_BYTES`, shared so that small logs are kept whole and the largest give up the rest. Events
are read from every line before anything is cut, so a cut never hides one.

Secrets never reach a file: every line is redacted before it is kept or read for events — the
run's generated secrets, every value of a container's environment whose name says secret
(`*PASSWORD*`, `*SECRET*`, `*TOKEN*`, `*COOKIE*`, `*KEY*`, ...), `password=...` written inline and
`scheme://user:password@host`.

Never silent: a service without a container, a container whose log cannot be read, a read that
failed halfway are entries of the index with the error; a failure to list the containers at all
is the index's `error`. Nothing here raises: the logs are evidence about a drill, never a reason
for the drill to fail.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from drills.core.dockerlabels import SERVICE_LABEL, project_selector
from drills.core.events import SystemEvent
from drills.stack.log_events import Extractor, stamp_end

if TYPE_CHECKING:
    import docker

    from drills.stack.project import ComposeProject

INDEX = "index.json"
FORMAT = 1
PER_CONTAINER_BYTES = 2 << 20
TOTAL_BYTES = 16 << 20
READ_LIMIT_BYTES = 256 << 20  # a container that logs more in one drill is read no further
MAX_LINE_BYTES = 16 << 10  # a longer line is kept cut, with how much was cut
EVENTS_PER_SERVICE = 300
MAX_EVENTS = 1000
HEADER = "# drills: "

REDACTED = "[redacted]"
MIN_SECRET = 6  # shorter values of secret-named variables would mask ordinary words in every line
SECRET_NAME = re.compile(r"(?i)pass(word|wd)?|secret|token|cookie|key|credential|auth")
# `password=x`, `PGPASSWORD=x`, `"password": "x"`, `api_key: x`: the name, its separator, the value.
INLINE = re.compile(r"(?i)\b(\w*(?:pass(?:word|wd)?|secret|token|api[_-]?key|cookie))"
                    r"([\"']?\s*[=:]\s*[\"']?)([^\s,;&'\"]+)")
URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]+):([^@\s/]+)@")


class Redactor:
    """Masks known secret values and secrets written inline in a line of text."""

    def __init__(self, secrets: Iterable[str]) -> None:
        values = sorted({s for s in secrets if len(s) >= MIN_SECRET}, key=len, reverse=True)
        self._values = re.compile("|".join(map(re.escape, values))) if values else None

    def __call__(self, text: str) -> str:
        if self._values is not None:
            text = self._values.sub(REDACTED, text)
        text = URL_USERINFO.sub(lambda m: f"{m[1]}:{REDACTED}@", text)
        return INLINE.sub(lambda m: f"{m[1]}{m[2]}{REDACTED}", text)


def secret_values(env: Iterable[str]) -> list[str]:
    """The values of `NAME=value` entries whose name says secret (a container's `Config.Env`)."""
    out = []
    for entry in env:
        name, sep, value = entry.partition("=")
        if sep and SECRET_NAME.search(name) and len(value) >= MIN_SECRET:
            out.append(value)
    return out


# ---- where the logs come from ---------------------------------------------------------------------


class Box(Protocol):
    """One container as the collection sees it (`DockerBox`, or a stand-in in tests)."""

    service: str
    name: str
    id: str
    created: float | None  # Unix epoch
    env: Sequence[str]

    def lines(self, since: float, until: float) -> Iterator[str]:
        """Its log lines in the window, each prefixed by its docker timestamp, without newline."""
        ...


@dataclass
class DockerBox:
    client: docker.DockerClient
    service: str
    name: str
    id: str
    created: float | None
    env: Sequence[str]

    def lines(self, since: float, until: float) -> Iterator[str]:
        chunks = self.client.api.logs(self.id, stdout=True, stderr=True, stream=True, follow=False,
                                      timestamps=True, since=since, until=until)
        return split_lines(chunks)


def split_lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """Lines of a byte stream whose chunks may cut lines anywhere (docker's frames, a TTY's raw output)."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        *whole, pending = pending.split(b"\n")
        for line in whole:
            yield line.rstrip(b"\r").decode("utf-8", errors="replace")
    if pending:
        yield pending.rstrip(b"\r").decode("utf-8", errors="replace")


def docker_boxes(client: docker.DockerClient, project: str) -> list[Box]:
    """Every container of the project, stopped ones and Drills' own helpers included."""
    out: list[Box] = []
    for c in client.containers.list(all=True, filters=project_selector(project), ignore_removed=True):
        attrs = c.attrs or {}
        out.append(DockerBox(client, str((c.labels or {}).get(SERVICE_LABEL) or c.name), str(c.name), str(c.id),
                             _epoch(attrs.get("Created")), list((attrs.get("Config") or {}).get("Env") or [])))
    return out


def _epoch(stamp: Any) -> float | None:
    try:
        return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


# ---- collection -----------------------------------------------------------------------------------


@dataclass
class ContainerLog:
    """What was kept of one container's log (or why nothing was): an entry of logs/index.json."""

    service: str
    container: str | None
    id: str | None
    file: str | None = None
    lines: int = 0  # kept in the file
    bytes: int = 0
    lines_cut: int = 0  # the first lines of the window, over the limits
    bytes_cut: int = 0
    created_s: float | None = None  # on the drill's clock, when the container was created during the drill
    note: str = ""
    error: str | None = None
    events: int = 0  # system events read from it
    kept: deque[str] = field(default_factory=deque, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {"service": self.service, "container": self.container, "id": self.id, "file": self.file,
                "lines": self.lines, "bytes": self.bytes, "lines_cut": self.lines_cut, "bytes_cut": self.bytes_cut,
                "created_s": self.created_s, "note": self.note, "error": self.error, "events": self.events}

    def keep(self, line: str, limit: int) -> None:
        self.kept.append(line)
        self.lines += 1
        self.bytes += len(line.encode()) + 1
        self.trim(limit)

    def trim(self, limit: int) -> None:
        while self.bytes > limit and self.kept:
            gone = len(self.kept.popleft().encode()) + 1
            self.lines, self.bytes = self.lines - 1, self.bytes - gone
            self.lines_cut, self.bytes_cut = self.lines_cut + 1, self.bytes_cut + gone


@dataclass(frozen=True)
class Window:
    """The drill's window (Unix epochs: from `since` to `until`, its t=0 at `origin`) and the limits."""

    since: float
    until: float
    origin: float
    per_container: int = PER_CONTAINER_BYTES
    total: int = TOTAL_BYTES


@dataclass
class Collected:
    entries: list[ContainerLog]
    events: list[SystemEvent]  # in time order, at most MAX_EVENTS
    events_found: int = 0
    error: str | None = None
    took_s: float | None = None  # how long reading, redacting and writing took


def allowances(sizes: Sequence[int], total: int) -> list[int]:
    """Bytes each log may keep so that all keep at most `total`: the small ones everything, the
    largest one level, the same for each (water-filling)."""
    if sum(sizes) <= total:
        return list(sizes)
    level, left, n = 0, total, len(sizes)
    for i, size in enumerate(sorted(sizes)):
        share = left // (n - i)
        if size > share:
            level = share
            break
        left -= size
    return [min(size, level) for size in sizes]


def collect(boxes: Sequence[Box], out_dir: Path, window: Window, *, secrets: Iterable[str],
            defined: Sequence[str] | None = ()) -> Collected:
    """Read each container's log in the window, redact it, read the system's
    events from it, keep what the limits allow, and write the files and the index. `defined`: the
    services the stack defines, each without a container an entry that says so (None: not known,
    and the index says that no service could be found missing)."""
    redact = Redactor([*secrets, *(v for b in boxes for v in secret_values(b.env))])
    entries: list[ContainerLog] = []
    events: list[SystemEvent] = []
    for box in sorted(boxes, key=lambda b: (b.service, b.name)):
        entry = ContainerLog(box.service, box.name, box.id[:12])
        if box.created is not None and box.created > window.since:
            entry.created_s = round(box.created - window.origin, 3)
            entry.note = (f"created during the drill (t={entry.created_s:g} s): the log of a container it "
                          f"replaced is gone with it")
        found = _read(box, entry, window, redact)
        entry.events = len(found)
        events += found[:EVENTS_PER_SERVICE]
        if len(found) > EVENTS_PER_SERVICE:
            entry.note = (entry.note + f"; {len(found) - EVENTS_PER_SERVICE} system events past the first "
                          f"{EVENTS_PER_SERVICE} left out of the history").strip("; ")
        entries.append(entry)
    present = {e.service for e in entries}
    entries += [ContainerLog(s, None, None, error="no container: it was removed, or never created (a node destroyed "
                             "and not respawned?)") for s in defined or () if s not in present]
    for entry, allowed in zip(entries, allowances([e.bytes for e in entries], window.total), strict=True):
        entry.trim(allowed)
    _write(entries, out_dir, window)
    events.sort(key=lambda e: e.at)
    collected = Collected(entries, events[:MAX_EVENTS], events_found=len(events),
                          error=None if defined is not None else "the services the stack defines were not read: "
                          "a service without any container would not be listed here")
    _write_index(out_dir, collected, window)
    return collected


def _read(box: Box, entry: ContainerLog, window: Window, redact: Callable[[str], str]) -> list[SystemEvent]:
    extractor = Extractor(box.service, window.origin)
    found: list[SystemEvent] = []
    read = 0
    try:
        for raw in box.lines(window.since, window.until):
            read += len(raw) + 1
            cut_at = stamp_end(raw)  # the stamp is kept as it is: a secret of digits must not mangle it
            line = raw[:cut_at] + redact(raw[cut_at:])
            if len(line.encode()) > MAX_LINE_BYTES:
                cut = line.encode()[:MAX_LINE_BYTES].decode("utf-8", errors="ignore")
                line = f"{cut} ...[{len(line.encode()) - len(cut.encode())} bytes of this line cut]"
            event = extractor.feed(line)
            if event is not None:
                found.append(event)
            entry.keep(line, window.per_container)
            if read > READ_LIMIT_BYTES:
                entry.error = f"read stopped after {READ_LIMIT_BYTES >> 20} MiB of log in the window"
                break
    except Exception as exc:  # a container gone meanwhile, a log driver that cannot be read
        entry.error = redact(f"log not read{' to its end' if read else ''}: {type(exc).__name__}: {exc}")[:500]
    return found


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")


def _file_names(entries: Sequence[ContainerLog]) -> None:
    """`<service>.log`; a service with several containers (a helper, a one-off) names each by its id."""
    counts: dict[str, int] = {}
    for e in entries:
        counts[e.service] = counts.get(e.service, 0) + 1
    for e in entries:
        if e.container is None:
            continue
        stem = re.sub(r"[^A-Za-z0-9._-]", "_", e.service)
        e.file = f"{stem}.log" if counts[e.service] == 1 else f"{stem}-{e.id}.log"


def _write(entries: list[ContainerLog], out_dir: Path, w: Window) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    _file_names(entries)
    for e in entries:
        if e.file is None:
            continue
        cut = (f"cut the first {e.lines_cut} line(s) ({e.bytes_cut} bytes): over the limits of "
               f"{w.per_container} bytes per container and {w.total} for all" if e.lines_cut else "nothing cut")
        header = (f"{HEADER}{e.container} (service {e.service}, container {e.id}), its log from {_iso(w.since)} to "
                  f"{_iso(w.until)} (the drill's t=0 at {_iso(w.origin)}); {e.lines} line(s) kept, {cut}"
                  + (f"; {e.note}" if e.note else "") + (f"; ERROR {e.error}" if e.error else ""))
        with (out_dir / e.file).open("w", encoding="utf-8") as fh:
            fh.write(header.replace("\n", " ") + "\n")
            for line in e.kept:
                fh.write(line + "\n")


def _write_index(out_dir: Path, c: Collected, w: Window) -> None:
    doc = {
        "format": FORMAT,
        "window": {"since": _iso(w.since), "until": _iso(w.until), "drill_t0": _iso(w.origin),
                   "drill_t0_epoch": w.origin},
        "limits": {"per_container_bytes": w.per_container, "total_bytes": w.total,
                   "events_per_service": EVENTS_PER_SERVICE, "events": MAX_EVENTS},
        "containers": [e.to_json() for e in c.entries],
        "events": {"found": c.events_found, "in_history": len(c.events)},
        "took_s": c.took_s,
        "error": c.error,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / INDEX).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def collect_logs(stack: ComposeProject, out_dir: Path, *, origin: float, until: float | None = None) -> Collected:
    """Every container of `stack`'s project, its log from the drill's t=0 (`origin`, a Unix epoch)
    until now. Never raises: what could not be done is in logs/index.json."""
    import time

    started = time.monotonic()
    window = Window(origin, time.time() if until is None else until, origin)
    try:
        boxes = docker_boxes(stack.client, stack.project)
        try:
            defined: Sequence[str] | None = stack.defined_services()
        except Exception:
            defined = None  # the containers there are still collected; the index says none was found missing
        collected = collect(boxes, out_dir, window, secrets=stack.secret_values(), defined=defined)
        collected.took_s = round(time.monotonic() - started, 3)
        _write_index(out_dir, collected, window)
        return collected
    except Exception as exc:  # the engine gone, the disk full: say so where the logs would be
        collected = Collected([], [], error=f"logs not collected: {type(exc).__name__}: {exc}"[:500])
        with contextlib.suppress(OSError):
            _write_index(out_dir, collected, window)
        return collected
