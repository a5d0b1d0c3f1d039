"""PostgreSQL backups (dump and disk snapshot) and their restore into a new Patroni cluster.

Dump: `pg_dump -Fc` of the stack file's database (`components.postgres`), run in the current
leader, inside the snapshot of a REPEATABLE READ transaction opened from the host
(`pg_export_snapshot()` + `pg_dump --snapshot`). The digest (rows, max seq, md5 of the rows in seq
order) is computed in that same transaction, so it describes exactly what the dump holds. The dump
is copied off the server to the host.

Snapshot: a copy of a replica's disk, taken with `pg_basebackup` (tar, WAL included) from the
replica while its WAL replay is paused (`pg_wal_replay_pause()`). Nothing is stopped: the leader
keeps taking writes and the replica catches up after `pg_wal_replay_resume()`. Consistency: the
copy is the replica's data exactly as of the paused replay position (the backup's WAL ends there
and recovery replays up to it), i.e. the leader's committed state of a moment ago — behind it by
the replication lag at the pause. The digest is read on the paused replica, so it is the copy's.

Restore into a new cluster (after a total failure destroyed every node and its disk): the DCS keys
of the Patroni scope are removed (what `patronictl remove` does), so the new empty nodes bootstrap
a new cluster (dump) or the node given the snapshot becomes its leader and the others clone it
(snapshot). The restored digest is computed on the new leader over seq <= the backup's max seq:
rows written after the service came back all have a higher seq.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drills.backup import dockerio
from drills.backup.model import Backup, Digest, Restore, parse_digest_row
from drills.backup.target import BackupStack, endpoint, nodes_of, poll
from drills.core.dockerlabels import helper_labels, require_owned, service_of, volumes_of
from drills.core.errors import FaultError

if TYPE_CHECKING:
    import psycopg
    from docker.models.containers import Container

TABLE = "drill_writes"
DATA_MOUNT = "/var/lib/postgresql/data"
PGDATA = f"{DATA_MOUNT}/pgdata"
NO_LIMIT = 2**63 - 1
DIGEST_SQL = (f"SELECT count(*), coalesce(max(seq), -1), "
              f"md5(coalesce(string_agg(seq::text || ':' || process::text, ',' ORDER BY seq), '')) "
              f"FROM {TABLE} WHERE seq <= %s")
SNAPSHOTS_KEPT = 1  # ~80 MB each: older snapshot files are deleted from the host (their events stay)

Clock = Callable[[], float]


def connect(stack: BackupStack, service: str, *, autocommit: bool = True,
            timeout_s: int = 3) -> psycopg.Connection[Any]:
    """To the stack's database (its stack file's `components.postgres`) as its superuser."""
    import psycopg

    pg = stack.definition.postgres()
    host, port = endpoint(stack, service, pg.sql_port)
    return psycopg.connect(host=host, port=port, user=pg.superuser,
                           password=stack.settings.secrets.pg_superuser_password, dbname=pg.database,
                           connect_timeout=timeout_s, autocommit=autocommit,
                           options="-c statement_timeout=20000", application_name="drills-backup")


def digest(conn: psycopg.Connection[Any], max_seq: int | None = None) -> Digest:
    row = conn.execute(DIGEST_SQL, (NO_LIMIT if max_seq is None else max_seq,)).fetchone()
    if row is None:
        raise FaultError("the digest query returned nothing")
    return parse_digest_row(row)


def _one(stack: BackupStack, role: str) -> Container:
    found = stack.containers(role)
    if not found:
        raise FaultError(f"no {role} in {stack.project} right now")
    return require_owned(found[0], stack.project)


# ---- backups ----------------------------------------------------------------------------------


def dump(stack: BackupStack, backup_id: str, directory: Path, clock: Clock) -> Backup:
    """pg_dump -Fc of the stack's database in the leader, in one exported snapshot with its digest;
    copied to the host."""
    import psycopg

    started = clock()
    leader = _one(stack, "postgres.leader")
    service = service_of(leader)
    inside = f"/tmp/drills-{backup_id}.dump"
    dest = directory / f"{backup_id}.dump"
    with connect(stack, service, autocommit=False) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        row = conn.execute("SELECT pg_export_snapshot()").fetchone()
        point = clock()
        held = digest(conn)
        try:
            dockerio.run(leader, ["pg_dump", "-Fc", "-d", stack.definition.postgres().database,
                                  f"--snapshot={row[0] if row else ''}", "-f", inside])
        finally:
            conn.rollback()
    try:
        size = dockerio.fetch_file(leader, inside, dest)
    finally:
        leader.exec_run(["rm", "-f", inside], user="postgres")
    return Backup(backup_id, "postgres", "dump", started, clock(), True, point_s=point, rows=held.rows,
                  max_seq=held.max_seq, checksum=held.checksum, source=service, location=str(dest), size_bytes=size)


def snapshot(stack: BackupStack, backup_id: str, directory: Path, clock: Clock) -> Backup:
    """pg_basebackup (tar, WAL fetched) of a replica whose replay is paused; digest read on it."""
    started = clock()
    replica = _one(stack, "postgres.replica[0]")
    service = service_of(replica)
    dest = directory / f"{backup_id}.base.tar"
    with connect(stack, service) as conn:
        conn.execute("SELECT pg_wal_replay_pause()")
        try:
            poll(f"WAL replay to pause on {service}", lambda: True if conn.execute(
                "SELECT pg_get_wal_replay_pause_state()").fetchone() == ("paused",) else None,
                timeout_s=10, interval_s=0.05)
            point = clock()
            held = digest(conn)
            size = dockerio.stream_to_file(
                replica, ["pg_basebackup", "-h", "127.0.0.1", "-U", "replicator", "-D", "-", "-Ft", "-X", "fetch",
                          "-c", "fast", "--no-manifest"], dest,
                env={"PGPASSWORD": stack.settings.secrets.pg_replication_password})
        finally:
            conn.execute("SELECT pg_wal_replay_resume()")
    _prune(directory, "*.base.tar", keep=SNAPSHOTS_KEPT)
    return Backup(backup_id, "postgres", "snapshot", started, clock(), True, point_s=point, rows=held.rows,
                  max_seq=held.max_seq, checksum=held.checksum, source=service, location=str(dest), size_bytes=size)


def _prune(directory: Path, pattern: str, *, keep: int) -> None:
    files = sorted(directory.glob(pattern), key=lambda p: p.stat().st_mtime)
    for old in files[:-keep]:
        old.unlink(missing_ok=True)


# ---- a new cluster ----------------------------------------------------------------------------


def pg_services(stack: BackupStack) -> list[str]:
    return nodes_of(stack, "postgres")


def forget_cluster(stack: BackupStack) -> str:
    """Delete the Patroni scope's keys from etcd (what `patronictl remove` does); the scope."""
    pg = stack.containers("postgres")
    scope = dockerio.env_of(pg[0], "DRILLS_PATRONI_SCOPE", "drills") if pg else "drills"
    prefix = f"/service/{scope}/"
    end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    body = json.dumps({"key": base64.b64encode(prefix.encode()).decode(),
                       "range_end": base64.b64encode(end.encode()).decode()})
    errors = []
    for etcd in stack.containers("etcd"):
        try:
            dockerio.run(require_owned(etcd, stack.project),
                         ["curl", "-fsS", "--max-time", "5", "-X", "POST", "http://127.0.0.1:2379/v3/kv/deleterange",
                          "-d", body], user="root")
            return scope
        except FaultError as exc:
            errors.append(str(exc))
    raise FaultError("could not clear the Patroni keys in etcd: " + ("; ".join(errors) or "no etcd container"))


def wait_leader(stack: BackupStack, timeout_s: float) -> Container:
    """The new cluster's leader, once it accepts connections to the stack's database and has its
    user (the stack file's `components.postgres`), as the stack's bootstrap makes them."""
    pg = stack.definition.postgres()

    def ready() -> Container | None:
        found = stack.containers("postgres.leader")
        if not found:
            return None
        with connect(stack, service_of(found[0])) as conn:
            row = conn.execute("SELECT pg_is_in_recovery(), EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %s)",
                               (pg.user,)).fetchone()
        return found[0] if row == (False, True) else None

    return require_owned(poll(f"a PostgreSQL leader with database {pg.database} and user {pg.user}", ready,
                              timeout_s=timeout_s), stack.project)


def _helper(stack: BackupStack, image: str, volume: str, name: str) -> Container:
    return stack.client.containers.run(
        image, ["sleep", "600"], detach=True, name=name, network_mode="none", user="root",
        volumes={volume: {"bind": DATA_MOUNT, "mode": "rw"}},
        labels=helper_labels(stack.project, "restore-helper"))


def _data_volume(container: Container) -> str:
    vols = volumes_of(container)
    if len(vols) != 1:
        raise FaultError(f"{container.name} has {len(vols)} volumes; expected its data volume only")
    return vols[0]


# ---- restores ---------------------------------------------------------------------------------


RESTORE_ATTEMPTS = 3
# An app service creating its table at the moment pg_restore creates the same one (after --clean
# found none to drop): "duplicate key value violates unique constraint pg_type_typname_nsp_index"
# (seen in CI). The restore is one transaction, so nothing of it stayed; again, --clean drops the
# app's table first and the race is gone.
_CONCURRENT_CREATE = ("duplicate key value violates unique constraint", "already exists")


def _pg_restore(leader: Container, argv: list[str]) -> None:
    for attempt in range(RESTORE_ATTEMPTS):
        try:
            dockerio.run(leader, argv)
            return
        except FaultError as exc:
            if attempt + 1 == RESTORE_ATTEMPTS or not any(m in str(exc) for m in _CONCURRENT_CREATE):
                raise


def restore_dump(stack: BackupStack, backup: Backup, timeout_s: float, clock: Clock) -> Restore:
    """New cluster (fresh bootstrap), then pg_restore --single-transaction --clean of the dump into
    the stack's database."""
    started = clock()
    steps: dict[str, float] = {}
    stack.compose("up", "-d", "--no-deps", *pg_services(stack))
    forget_cluster(stack)
    leader = wait_leader(stack, timeout_s)
    steps["new_cluster_s"] = clock() - started
    t = clock()
    inside = "/tmp/drills-restore.dump"
    dockerio.put_file(leader, Path(backup.location), "/tmp", "drills-restore.dump", uid=_uid(leader), gid=_uid(leader))
    try:
        # --clean: the restarted app services may already have created their (empty) tables in the new
        # cluster; the dump's objects replace them, all in one transaction.
        _pg_restore(leader, ["pg_restore", "--single-transaction", "--exit-on-error", "--clean", "--if-exists",
                             "-d", stack.definition.postgres().database, inside])
    finally:
        leader.exec_run(["rm", "-f", inside], user="root")
    steps["load_s"] = clock() - t
    return _verified(stack, backup, leader, started, steps=steps, clock=clock)


def restore_snapshot(stack: BackupStack, backup: Backup, timeout_s: float, clock: Clock) -> Restore:
    """New disk for the first node from the snapshot; it leads a new cluster; the others clone it."""
    started = clock()
    steps: dict[str, float] = {}
    services = pg_services(stack)
    stack.compose("up", "-d", "--no-deps", *services)  # the nodes exist (a total failure removed them)
    nodes = {service_of(c): require_owned(c, stack.project) for c in stack.containers("postgres")}
    for c in nodes.values():
        c.stop(timeout=5)
    forget_cluster(stack)
    first = nodes[services[0]]
    image = str(first.attrs["Config"]["Image"])
    for service, c in nodes.items():
        helper = _helper(stack, image, _data_volume(c), f"{stack.project}-restore-{service}-{int(time.time())}")
        try:
            fresh = f"rm -rf {PGDATA} && install -d -o postgres -g postgres -m 0700 {PGDATA}"
            dockerio.run(helper, ["sh", "-c", fresh], user="root")
            if c is first:
                dockerio.put_tar(helper, Path(backup.location), PGDATA)
                dockerio.run(helper, ["sh", "-c", f"rm -f {PGDATA}/standby.signal {PGDATA}/recovery.signal "
                                                  f"{PGDATA}/postmaster.pid && chown -R postgres:postgres {PGDATA}"],
                             user="root")
        finally:
            helper.remove(force=True, v=True)  # any anonymous volume goes with it; the data volume is named
    steps["new_disk_s"] = clock() - started
    t = clock()
    first.start()
    leader = wait_leader(stack, timeout_s)
    for c in nodes.values():
        if c is not first:
            c.start()
    steps["new_cluster_s"] = clock() - t
    return _verified(stack, backup, leader, started, steps=steps, clock=clock)


def _uid(container: Container) -> int:
    return int(dockerio.run(container, ["id", "-u", "postgres"], user="root").strip() or 0)


def _verified(stack: BackupStack, backup: Backup, leader: Container, started: float, *, steps: dict[str, float],
              clock: Clock) -> Restore:
    t = clock()
    with connect(stack, service_of(leader)) as conn:
        got = digest(conn, backup.max_seq if backup.max_seq is not None else -1)
    steps["verify_s"] = clock() - t
    return Restore(backup.id, "postgres", backup.method, started, clock(), True, rows=got.rows, max_seq=got.max_seq,
                   checksum=got.checksum, steps_s={k: round(v, 3) for k, v in steps.items()})
