"""MongoDB dump backups: `mongodump --oplog --archive` of the replica set, taken from a helper
container of the mongo image on the stack network, restored into a new replica set with
`mongorestore --oplogReplay --drop`.

Consistency: `--oplog` makes the dump a point-in-time copy as of the end of the dump. The digest
(count, max seq, md5 of the `_id`s in order) is read on the primary with read concern "majority"
just after the dump ended, limited to `_id` <= the highest `_id` the dump contains (read back from
a scratch restore is not possible without a second mongod; with one client process, seqs commit in
order, so the set below that bound is the dump's). The restore is verified over the same bound.

Needs the `mongo:7` image: scenarios using it say `requires: [mongo:7]` and are NOT RUN without it.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drills.components import _dockerio as dockerio
from drills.components._backup_tools import BackupLive, Clock, group_endpoints, nodes_of, poll
from drills.components._mongo_image import MONGO_IMAGE
from drills.components._mongo_spec import MongoSpec
from drills.core.backups import Backup, Digest, Restore
from drills.core.dockerlabels import helper_labels
from drills.core.errors import FaultError

if TYPE_CHECKING:
    from docker.models.containers import Container

    from drills.components.base import Node

COLLECTION = "drill_writes"


def digest_of_ids(ids: Iterable[int]) -> Digest:
    ordered = sorted(ids)
    text = ",".join(str(i) for i in ordered)
    return Digest(len(ordered), ordered[-1] if ordered else None, hashlib.md5(text.encode()).hexdigest())


def _uri(stack: BackupLive) -> str:
    """The replica set as a helper container on the stack's network reaches it: its members by
    their service names, as the stack file's root user (`components.mongo`)."""
    mongo = stack.definition.component("mongo", MongoSpec)
    pw = stack.settings.secrets.mongo_root_password
    hosts = ",".join(f"{node}:{mongo.port}" for node in nodes_of(stack, "mongo"))
    return f"mongodb://{mongo.root_user}:{pw}@{hosts}/?replicaSet={mongo.replica_set}&authSource=admin"


def _helper(stack: BackupLive) -> Container:
    image = stack.settings.pulled_image(MONGO_IMAGE.profile)
    network = stack.network_name
    return stack.client.containers.run(
        image, ["sleep", "600"], entrypoint=[], detach=True, network=network,
        name=f"{stack.project}-mongo-backup-{int(time.time() * 1000)}",
        labels=helper_labels(stack.project, "backup-helper"))


def read_digest(stack: BackupLive, max_id: int | None = None) -> Digest:
    import pymongo
    from pymongo.read_concern import ReadConcern

    mongo = stack.definition.component("mongo", MongoSpec)
    host, port = group_endpoints(stack, "mongo", mongo.port)[0]
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        host, port, username=mongo.root_user, password=stack.settings.secrets.mongo_root_password,
        authSource="admin", directConnection=False, replicaSet=mongo.replica_set, serverSelectionTimeoutMS=5000)
    try:
        coll = client[mongo.database].get_collection(COLLECTION, read_concern=ReadConcern("majority"))
        query = {} if max_id is None else {"_id": {"$lte": max_id}}
        return digest_of_ids(int(d["_id"]) for d in coll.find(query, {"_id": 1}))
    finally:
        client.close()


def dump(stack: BackupLive, backup_id: str, directory: Path, clock: Clock) -> Backup:
    started = clock()
    dest = directory / f"{backup_id}.archive"
    helper = _helper(stack)
    try:
        size = dockerio.stream_to_file(helper, ["mongodump", f"--uri={_uri(stack)}", "--oplog", "--archive"], dest,
                                       user="root")
    finally:
        helper.remove(force=True, v=True)  # and the anonymous volumes of mongo's VOLUMEs (/data/db, /data/configdb)
    point = clock()
    held = read_digest(stack)
    replica_set = stack.definition.component("mongo", MongoSpec).replica_set
    return Backup(backup_id, "mongo", "dump", started, clock(), True, point_s=point, rows=held.rows,
                  max_seq=held.max_seq, checksum=held.checksum, source=replica_set,
                  location=str(dest), size_bytes=size)


def init_outcome(snap: Mapping[str, Node]) -> str | None:
    """None while mongo-init runs; "" once it exited 0; else its status (it will not succeed by waiting)."""
    init = snap.get("mongo-init")
    if init is None or init.state != "exited":
        return None
    return "" if init.exit_code == 0 else init.status


def restore_dump(stack: BackupLive, backup: Backup, timeout_s: float, clock: Clock) -> Restore:
    started = clock()
    nodes = nodes_of(stack, "mongo")
    stack.compose("up", "-d", "--no-deps", *nodes)
    stack.compose("up", "-d", "mongo-init")  # a new replica set: initiated again, with its users
    poll("a MongoDB primary", lambda: stack.containers("mongo.primary") or None, timeout_s=timeout_s)
    # mongo-init creates the `app` user once a primary is elected: restoring before it is done races
    # it (mongorestore --drop replaces the users with the dump's, and a createUser landing after
    # that fails "already exists", so mongo-init exits non-zero and the stack never reads ready).
    failed = poll("mongo-init to finish on the new replica set", lambda: init_outcome(stack.snapshot()),
                  timeout_s=timeout_s)
    if failed:
        raise FaultError(f"mongo-init failed on the new replica set: {failed}",
                         hint=f"docker compose -p {stack.project} logs mongo-init")
    cluster_s = clock() - started
    helper = _helper(stack)
    t = clock()
    try:
        dockerio.put_file(helper, Path(backup.location), "/tmp", "restore.archive")
        dockerio.run(helper, ["mongorestore", f"--uri={_uri(stack)}", "--oplogReplay", "--drop",
                              "--archive=/tmp/restore.archive"], user="root")
    finally:
        helper.remove(force=True, v=True)  # and the anonymous volumes of mongo's VOLUMEs (/data/db, /data/configdb)
    load_s = clock() - t
    got = read_digest(stack, backup.max_seq if backup.max_seq is not None else -1)
    return Restore(backup.id, "mongo", "dump", started, clock(), True, rows=got.rows, max_seq=got.max_seq,
                   checksum=got.checksum, steps_s={"new_cluster_s": round(cluster_s, 3), "load_s": round(load_s, 3)})
