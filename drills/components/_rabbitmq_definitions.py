"""RabbitMQ definitions backup: `GET /api/definitions` (vhosts, users, permissions, policies,
queues, exchanges, bindings), restored into a new cluster with `POST /api/definitions`.

Messages are not part of it: whatever was queued when the cluster was lost is lost (the policy:
scheduled tests stop, no notifications are sent). The digest is over the definitions in canonical
form, without what a new cluster always changes (its name and id, versions, password salts), so
an export of the restored cluster can be compared with the backup: the restored digest counts the
backup's objects found after the import, and checksums those.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from drills.components._backup_tools import BackupLive, Clock, nodes_of, poll, published
from drills.components._rabbitmq_api import Management
from drills.components._rabbitmq_spec import RabbitmqSpec
from drills.core.backups import Backup, Digest, Restore
from drills.core.errors import FaultError

# section -> the fields that define an object of it (the rest is volatile or derived)
SECTIONS: dict[str, tuple[str, ...]] = {
    "vhosts": ("name",),
    "users": ("name", "tags"),
    "permissions": ("user", "vhost", "configure", "write", "read"),
    "policies": ("vhost", "name", "pattern", "apply-to", "definition", "priority"),
    "queues": ("name", "vhost", "durable", "auto_delete", "arguments"),
    "exchanges": ("name", "vhost", "type", "durable", "auto_delete", "internal", "arguments"),
    "bindings": ("source", "vhost", "destination", "destination_type", "routing_key", "arguments"),
}


def canonical(definitions: Mapping[str, Any]) -> list[str]:
    """Each object of the definitions as one canonical JSON line `section {fields}`, sorted."""
    lines = []
    for section, keys in SECTIONS.items():
        for obj in definitions.get(section) or []:
            picked = {k: obj.get(k) for k in keys}
            if isinstance(picked.get("tags"), list):  # 3.10+ exports a list, older a comma list
                picked["tags"] = ",".join(sorted(str(t) for t in picked["tags"]))
            lines.append(section + " " + json.dumps(picked, sort_keys=True, separators=(",", ":")))
    return sorted(lines)


def digest_of(lines: Iterable[str]) -> Digest:
    items = sorted(lines)
    return Digest(len(items), None, hashlib.md5("\n".join(items).encode()).hexdigest())


def restored_digest(backup_lines: Sequence[str], restored: Mapping[str, Any]) -> Digest:
    """The digest of the backup's objects that the restored cluster has (all of them, if intact)."""
    have = set(canonical(restored))
    return digest_of(line for line in backup_lines if line in have)


class Api:
    def __init__(self, stack: BackupLive) -> None:
        rabbit = stack.definition.component("rabbitmq", RabbitmqSpec)
        snap = stack.snapshot()
        nodes = stack.settings.roles.members("rabbitmq", snap)
        eps = [published(stack, s, rabbit.management_port, snap) for s in nodes]
        self.endpoints = [e for e in eps if e is not None]
        self.auth = (rabbit.user, stack.settings.secrets.app_password)

    def all_booted(self) -> bool:
        """Every node has finished booting, by its own answer (see restore_definitions)."""
        api = Management(self.endpoints, self.auth[1], self.auth[0])
        return all(api.node_booted(e) is None for e in self.endpoints)

    def call(self, method: str, path: str, body: Any = None) -> Any:
        try:
            return Management(self.endpoints, self.auth[1], self.auth[0]).request(method, path, body)
        except OSError as exc:
            raise FaultError(str(exc)) from exc


def verify(stack: BackupLive, max_seq: int | None = None) -> Digest:
    """The digest of the definitions the cluster holds now (definitions have no seq)."""
    return digest_of(canonical(Api(stack).call("GET", "definitions")))


def export_definitions(stack: BackupLive, backup_id: str, directory: Path, clock: Clock) -> Backup:
    started = clock()
    doc = Api(stack).call("GET", "definitions")
    point = clock()
    if not isinstance(doc, dict):
        raise FaultError("GET /api/definitions did not return an object")
    dest = directory / f"{backup_id}.definitions.json"
    dest.write_text(json.dumps(doc, indent=1, sort_keys=True))
    held = digest_of(canonical(doc))
    return Backup(backup_id, "rabbitmq", "dump", started, clock(), True, point_s=point, rows=held.rows,
                  checksum=held.checksum, source="management API", location=str(dest),
                  size_bytes=dest.stat().st_size)


def restore_definitions(stack: BackupLive, backup: Backup, timeout_s: float, clock: Clock) -> Restore:
    """Wait for a new cluster with every node running and booted, import the definitions, verify them.

    `/api/nodes` says `running` while a node is still loading its tables; quorum queues the import
    declares then can be left without a working Raft member there, and publishers on them lose their
    connection a second after the stack reads as recovered. So each node is asked itself whether it
    has finished booting (its AMQP listener is up) before anything is imported."""
    started = clock()
    nodes = nodes_of(stack, "rabbitmq")
    wanted = len(nodes)
    stack.compose("up", "-d", "--no-deps", *nodes)

    def formed() -> bool | None:
        api = Api(stack)
        nodes = api.call("GET", "nodes?columns=name,running")
        if sum(1 for n in nodes if n.get("running")) < wanted or len(api.endpoints) < wanted:
            return None
        return True if api.all_booted() else None

    poll(f"a RabbitMQ cluster of {wanted} running, booted nodes", formed, timeout_s=timeout_s, interval_s=1.0)
    cluster_s = clock() - started
    definitions = json.loads(Path(backup.location).read_text())
    t = clock()
    api = Api(stack)
    api.call("POST", "definitions", definitions)
    load_s = clock() - t
    got = restored_digest(canonical(definitions), api.call("GET", "definitions"))
    return Restore(backup.id, "rabbitmq", backup.method, started, clock(), True, rows=got.rows,
                   checksum=got.checksum, steps_s={"new_cluster_s": round(cluster_s, 3), "load_s": round(load_s, 3)})
