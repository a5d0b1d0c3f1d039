"""The record of what `drill cluster up` created, written BEFORE each creation.

A crash (SIGKILL, power cut) between two steps leaves a record naming everything that may exist,
so `drill cluster down` removes it all; removing something that was never created is a no-op. The
record lives under the state directory (`cluster/record.json`) beside the nodes' data roots.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from drills.core.errors import SetupError
from drills.core.local_state import state_dir


class Kind(StrEnum):
    BRIDGE = "bridge"
    RULE = "rule"  # the FORWARD accept rule for the bridge, tagged with the cluster's comment
    NETNS = "netns"
    VETH = "veth"
    DAEMON = "daemon"  # a node's dockerd with its socket, pidfile, exec root and data root


# Daemons go first (a dockerd must stop before its namespace is deleted), the bridge last.
TEARDOWN_ORDER = (Kind.DAEMON, Kind.VETH, Kind.NETNS, Kind.RULE, Kind.BRIDGE)


@dataclass(frozen=True)
class Resource:
    kind: Kind
    name: str


@dataclass
class Record:
    subnet: str
    pool: str
    resources: list[Resource] = field(default_factory=list)
    images: list[str] = field(default_factory=list)  # references loaded on every node

    def to_json(self) -> str:
        return json.dumps({"subnet": self.subnet, "pool": self.pool, "images": self.images,
                           "resources": [{"kind": r.kind.value, "name": r.name} for r in self.resources]},
                          indent=2)

    @classmethod
    def from_json(cls, text: str) -> Record:
        data = json.loads(text)
        return cls(subnet=str(data["subnet"]), pool=str(data["pool"]),
                   resources=[Resource(Kind(r["kind"]), str(r["name"])) for r in data["resources"]],
                   images=[str(i) for i in data.get("images", [])])

    def nodes(self) -> list[int]:
        """Indexes of the nodes whose daemon was (or was about to be) started."""
        return sorted(int(r.name.rsplit("-", 1)[1]) for r in self.resources if r.kind is Kind.DAEMON)


def teardown(resources: Iterable[Resource]) -> list[Resource]:
    """What `down` removes, in the order it must: each kind in TEARDOWN_ORDER, latest first."""
    unique = list(dict.fromkeys(resources))
    return [r for kind in TEARDOWN_ORDER for r in reversed(unique) if r.kind is kind]


def cluster_dir() -> Path:
    path = state_dir() / "cluster"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def record_file() -> Path:
    return cluster_dir() / "record.json"


def data_root(node: str) -> Path:
    return cluster_dir() / node


def load() -> Record | None:
    path = record_file()
    if not path.exists():
        return None
    try:
        return Record.from_json(path.read_text())
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SetupError(f"the cluster record {path} is unreadable ({exc})",
                         hint="`drill cluster down` still removes the cluster by its names; then delete that file") \
            from exc


def save(record: Record) -> None:
    # Atomically: a crash mid-write must not lose what earlier steps created.
    path = record_file()
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(record.to_json())
    os.replace(tmp, path)


def note(record: Record, resource: Resource) -> None:
    """Record `resource` before it is created (no-op when already recorded)."""
    if resource not in record.resources:
        record.resources.append(resource)
        save(record)


def forget() -> None:
    record_file().unlink(missing_ok=True)


@contextmanager
def exclusive() -> Iterator[None]:
    """One `drill cluster up/down` at a time on this machine."""
    with (cluster_dir() / "lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise SetupError("another `drill cluster` command is changing the cluster",
                             hint="wait for it to end, then run yours again") from exc
        yield


def with_leftovers(recorded: Iterable[Resource], *, namespaces: Iterable[str], links: Iterable[str],
                   nodes: Iterable[str], bridge: str) -> list[Resource]:
    """The recorded resources plus whatever of the cluster's names is found on the machine (a record
    lost or written by another state directory): what `down` removes, in teardown order."""
    found = list(recorded)
    found += [Resource(Kind.NETNS, n) for n in namespaces]
    found += [Resource(Kind.BRIDGE if link == bridge else Kind.VETH, link) for link in links]
    found += [Resource(Kind.DAEMON, n) for n in nodes]
    return teardown(found)


def planned(subnet_nodes: Iterable[tuple[str, str, str]], bridge: str, rule: str) -> list[Resource]:
    """What `up` records, in its order, for nodes given as (namespace, veth, name): bridge, rule, each
    node's namespace and veth, then the daemons (started side by side after the wiring)."""
    nodes = list(subnet_nodes)
    found = [Resource(Kind.BRIDGE, bridge), Resource(Kind.RULE, rule)]
    for namespace, veth, _ in nodes:
        found += [Resource(Kind.NETNS, namespace), Resource(Kind.VETH, veth)]
    return found + [Resource(Kind.DAEMON, name) for _, _, name in nodes]
