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

Nothing of a stack is assumed here: the stack file says, or the live system is asked. The tools
log in as the stack file's logins (`PostgresBase.login`: the superuser for pg_dump, pg_restore and
the digests, the replication user for pg_basebackup) over TCP on the node itself, and run as the
OS user that owns the data directory (`os_user`, else read); the data directory is `data_dir`, else
PostgreSQL's own `SHOW data_directory` (a snapshot records it: after a total failure nothing can
say it), and its disk the container's volume mounted over it; the DCS keys are
`<namespace><scope>/`, the scope given, else asked of Patroni (`GET /patroni`).
"""

from __future__ import annotations

import posixpath
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from drills.components import _dockerio as dockerio
from drills.components import _etcd_keys, _patroni_rest
from drills.components._backup_tools import BackupLive, Clock, endpoint, nodes_of, poll, published
from drills.components._etcd_spec import EtcdSpec
from drills.components._patroni_spec import PostgresSpec
from drills.components._postgres_spec import PostgresBase
from drills.core.backups import Backup, Digest, Restore, parse_digest_row
from drills.core.dockerlabels import helper_labels, require_owned, service_of
from drills.core.errors import FaultError

if TYPE_CHECKING:
    import psycopg
    from docker.models.containers import Container

    from drills.components._postgres_spec import PostgresBase

TABLE = "drill_writes"
LOCAL = "127.0.0.1"  # the tools run in a node and reach its own server over TCP, as a login and not as a peer
NO_LIMIT = 2**63 - 1
DIGEST_SQL = (f"SELECT count(*), coalesce(max(seq), -1), "
              f"md5(coalesce(string_agg(seq::text || ':' || process::text, ',' ORDER BY seq), '')) "
              f"FROM {TABLE} WHERE seq <= %s")
SNAPSHOTS_KEPT = 1  # ~80 MB each: older snapshot files are deleted from the host (their events stay)
SCOPE_WAIT_S = 30.0  # new nodes just started: Patroni's REST API answers within seconds


def login(stack: BackupLive, role: Literal["superuser", "replication"]) -> tuple[str, str]:
    """(user, password) of the stack file's login for `role` (the reference stack's convention
    where the file names none)."""
    found = stack.definition.component("postgres", PostgresBase).login(role)
    return found.user, stack.credential(found.password)


def connect(stack: BackupLive, service: str, *, autocommit: bool = True,
            timeout_s: int = 3) -> psycopg.Connection[Any]:
    """To the stack's database (its stack file's `components.postgres`) as its superuser."""
    import psycopg

    pg = stack.definition.component("postgres", PostgresBase)
    host, port = endpoint(stack, service, pg.sql_port)
    user, password = login(stack, "superuser")
    return psycopg.connect(host=host, port=port, user=user, password=password, dbname=pg.database,
                           connect_timeout=timeout_s, autocommit=autocommit,
                           options="-c statement_timeout=20000", application_name="drills-backup")


def tool_argv(tool: str, pg: PostgresBase, user: str, *args: str) -> list[str]:
    """A PostgreSQL client tool run in a node, logged in as `user` to the node's own server."""
    return [tool, "-h", LOCAL, "-p", str(pg.sql_port), "-U", user, *args]


def data_directory(pg: PostgresBase, conn: psycopg.Connection[Any]) -> str:
    """The stack file's `data_dir`, else the server's own answer."""
    if pg.data_dir:
        return pg.data_dir
    row = conn.execute("SHOW data_directory").fetchone()
    if not row or not str(row[0]).startswith("/"):
        raise FaultError(f"SHOW data_directory answered {row!r}",
                         hint="say it in the stack file: components: postgres: data_dir: /path/inside/the/nodes")
    return str(row[0])


def os_user(pg: PostgresBase, container: Container, data_dir: Callable[[], str]) -> str:
    """The OS user the tools run as: the stack file's `os_user`, else the data directory's owner."""
    if pg.os_user:
        return pg.os_user
    where = data_dir()
    # Once in 250 drills (a node just recreated) the answer came back empty, and `id ''` then
    # failed the restore: asked again; an empty answer is never taken for a user.
    for attempt in range(3):
        owner = dockerio.run(container, ["stat", "-c", "%U", where], user="root").strip()
        if owner and owner != "UNKNOWN":
            return owner
        time.sleep(1.0 + attempt)
    raise FaultError(f"`stat -c %U {where}` in {container.name} named no owner ({owner!r}, 3 times)",
                     hint="say the OS user that owns the data directory: components: postgres: os_user:")


def _user_ids(container: Container, user: str) -> tuple[int, int]:
    out = dockerio.run(container, ["sh", "-c", 'id -u "$1" && id -g "$1"', "sh", user], user="root").split()
    if len(out) != 2 or not all(x.isdigit() for x in out):
        raise FaultError(f"`id {user}` in {container.name} answered {' '.join(out)!r}",
                         hint="say the OS user that owns the data directory: components: postgres: os_user:")
    return int(out[0]), int(out[1])


def digest(conn: psycopg.Connection[Any], max_seq: int | None = None) -> Digest:
    row = conn.execute(DIGEST_SQL, (NO_LIMIT if max_seq is None else max_seq,)).fetchone()
    if row is None:
        raise FaultError("the digest query returned nothing")
    return parse_digest_row(row)


def verify(stack: BackupLive, max_seq: int | None = None) -> Digest:
    """The digest of what the current leader holds, up to `max_seq` (None: all of it)."""
    with connect(stack, service_of(_one(stack, "postgres.leader"))) as conn:
        return digest(conn, max_seq)


def _one(stack: BackupLive, role: str) -> Container:
    found = stack.containers(role)
    if not found:
        raise FaultError(f"no {role} in {stack.project} right now")
    return require_owned(found[0], stack.project)


# ---- backups ----------------------------------------------------------------------------------


def dump(stack: BackupLive, backup_id: str, directory: Path, clock: Clock) -> Backup:
    """pg_dump -Fc of the stack's database in the leader, in one exported snapshot with its digest;
    copied to the host."""
    import psycopg

    started = clock()
    leader = _one(stack, "postgres.leader")
    service = service_of(leader)
    inside = f"/tmp/drills-{backup_id}.dump"
    dest = directory / f"{backup_id}.dump"
    pg = stack.definition.component("postgres", PostgresBase)
    user, password = login(stack, "superuser")
    with connect(stack, service) as conn:
        runs_as = os_user(pg, leader, lambda: data_directory(pg, conn))
        conn.autocommit = False  # the export and the digest below share one snapshot
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        row = conn.execute("SELECT pg_export_snapshot()").fetchone()
        point = clock()
        held = digest(conn)
        try:
            dockerio.run(leader, tool_argv("pg_dump", pg, user, "-Fc", "-d", pg.database,
                                           f"--snapshot={row[0] if row else ''}", "-f", inside),
                         user=runs_as, env={"PGPASSWORD": password})
        finally:
            conn.rollback()
    try:
        size = dockerio.fetch_file(leader, inside, dest)
    finally:
        leader.exec_run(["rm", "-f", inside], user="root")
    return Backup(backup_id, "postgres", "dump", started, clock(), True, point_s=point, rows=held.rows,
                  max_seq=held.max_seq, checksum=held.checksum, source=service, location=str(dest), size_bytes=size)


def snapshot(stack: BackupLive, backup_id: str, directory: Path, clock: Clock) -> Backup:
    """pg_basebackup (tar, WAL fetched) of a replica whose replay is paused; digest read on it."""
    started = clock()
    replica = _one(stack, "postgres.replica[0]")
    service = service_of(replica)
    dest = directory / f"{backup_id}.base.tar"
    pg = stack.definition.component("postgres", PostgresBase)
    user, password = login(stack, "replication")
    with connect(stack, service) as conn:
        data_dir = data_directory(pg, conn)
        runs_as = os_user(pg, replica, lambda: data_dir)
        conn.execute("SELECT pg_wal_replay_pause()")
        try:
            poll(f"WAL replay to pause on {service}", lambda: True if conn.execute(
                "SELECT pg_get_wal_replay_pause_state()").fetchone() == ("paused",) else None,
                timeout_s=10, interval_s=0.05)
            point = clock()
            held = digest(conn)
            size = dockerio.stream_to_file(
                replica, tool_argv("pg_basebackup", pg, user, "-D", "-", "-Ft", "-X", "fetch", "-c", "fast",
                                   "--no-manifest"), dest, user=runs_as, env={"PGPASSWORD": password})
        finally:
            conn.execute("SELECT pg_wal_replay_resume()")
    _prune(directory, "*.base.tar", keep=SNAPSHOTS_KEPT)
    return Backup(backup_id, "postgres", "snapshot", started, clock(), True, point_s=point, rows=held.rows,
                  max_seq=held.max_seq, checksum=held.checksum, source=service, location=str(dest), size_bytes=size,
                  source_path=data_dir)


def _prune(directory: Path, pattern: str, *, keep: int) -> None:
    files = sorted(directory.glob(pattern), key=lambda p: p.stat().st_mtime)
    for old in files[:-keep]:
        old.unlink(missing_ok=True)


# ---- a new cluster ----------------------------------------------------------------------------


def pg_services(stack: BackupLive) -> list[str]:
    return nodes_of(stack, "postgres")


def patroni_scope(stack: BackupLive, wait_s: float = SCOPE_WAIT_S) -> str:
    """The Patroni cluster's scope: the stack file's `patroni.scope`, else what a member's REST API
    says (`GET /patroni`), else Patroni's own variable in a node's environment; the members are
    asked again until `wait_s` when none of those answered (nodes just started)."""
    pg = stack.definition.component("postgres", PostgresSpec)
    if pg.patroni.scope:
        return pg.patroni.scope
    services = pg_services(stack)

    def asked() -> tuple[str | None, list[str]]:
        snap = stack.snapshot()
        reached = [e for e in (published(stack, s, pg.rest_port, snap) for s in services) if e is not None]
        return _patroni_rest.read_scope(reached)

    found, said = asked()
    if found is not None:
        return found
    for node in stack.containers("postgres"):
        for variable in ("PATRONI_SCOPE", "DRILLS_PATRONI_SCOPE"):  # Patroni's own; the reference stack's
            if value := dockerio.env_of(node, variable):
                return value
    try:
        return poll("a Patroni member to name its scope (GET /patroni)", lambda: asked()[0], timeout_s=wait_s)
    except FaultError as exc:
        raise FaultError(f"{exc} ({'; '.join(said) or 'no member publishes ' + str(pg.rest_port)})",
                         hint="say it in the stack file: components: postgres: patroni: {scope: <Patroni's "
                              "scope>}") from None


def forget_cluster(stack: BackupLive, scope: str | None = None) -> str:
    """Delete the Patroni scope's keys from etcd (what `patronictl remove` does); the scope.

    Through etcd's v3 JSON gateway from the host, at the first member the host reaches; by curl
    inside a member where the host reaches none."""
    pg = stack.definition.component("postgres", PostgresSpec)
    scope = scope or patroni_scope(stack)
    prefix = f"{pg.patroni.namespace}{scope}/"
    etcd: EtcdSpec | None = stack.definition.spec.components.etcd
    port = etcd.client_port if etcd is not None else 2379
    errors = []
    snap = stack.snapshot()
    for service in stack.settings.roles.members("etcd", snap):
        reached = published(stack, service, port, snap)
        if reached is None:
            continue
        try:
            _etcd_keys.delete_prefix(reached, prefix)
            return scope
        except OSError as exc:
            errors.append(f"{service}: {exc}")
    for member in stack.containers("etcd"):
        try:
            dockerio.run(require_owned(member, stack.project), _etcd_keys.delete_argv(port, prefix), user="root")
            return scope
        except FaultError as exc:
            errors.append(str(exc))
    raise FaultError(f"could not clear the Patroni keys under {prefix} in etcd: "
                     + ("; ".join(errors) or "no etcd container"),
                     hint="the restore needs one etcd member reachable on its client port from this machine, or "
                          "curl in its image")


def wait_leader(stack: BackupLive, timeout_s: float) -> Container:
    """The new cluster's leader, once it accepts connections to the stack's database and has its
    user (the stack file's `components.postgres`), as the stack's bootstrap makes them."""
    pg = stack.definition.component("postgres", PostgresBase)

    app = pg.login("app").user

    def ready() -> Container | None:
        found = stack.containers("postgres.leader")
        if not found:
            return None
        with connect(stack, service_of(found[0])) as conn:
            row = conn.execute("SELECT pg_is_in_recovery(), EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %s)",
                               (app,)).fetchone()
        return found[0] if row == (False, True) else None

    return require_owned(poll(f"a PostgreSQL leader with database {pg.database} and user {app}", ready,
                              timeout_s=timeout_s), stack.project)


def _helper(stack: BackupLive, image: str, mount: tuple[str, str], name: str) -> Container:
    volume, destination = mount
    # The node's own image for its tools and its users, but not its entrypoint: a stack's may
    # refuse to start without its secrets or its peers (stacks/examples/debian-patroni's does).
    return stack.client.containers.run(
        image, ["600"], entrypoint=["sleep"], detach=True, name=name, network_mode="none", user="root",
        volumes={volume: {"bind": destination, "mode": "rw"}},
        labels=helper_labels(stack.project, "restore-helper"))


def _within(path: str, directory: str) -> bool:
    path, directory = posixpath.normpath(path), posixpath.normpath(directory)
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def data_mount(mounts: Sequence[Mapping[str, Any]], data_dir: str, container: str = "the node") -> tuple[str, str]:
    """(volume, its mount point) of the volume holding `data_dir`: the deepest mount over it. A
    data directory on a bind mount, or on no mount, is refused: a restore writes only into the
    run's own volumes."""
    over = sorted((m for m in mounts if _within(data_dir, str(m.get("Destination") or "/nowhere"))),
                  key=lambda m: len(str(m.get("Destination"))), reverse=True)
    if not over:
        raise FaultError(f"{container} mounts no volume over its data directory {data_dir}: a disk snapshot has "
                         "nowhere to go", hint="give the nodes a volume for their data directory, or say the data "
                                               "directory in the stack file (components: postgres: data_dir:)")
    found = over[0]
    if found.get("Type") != "volume" or not found.get("Name"):
        raise FaultError(f"{container}'s data directory {data_dir} is on a {found.get('Type')} mount of "
                         f"{found.get('Source')}: Drills restores only into the run's own volumes",
                         hint="use a Compose volume for the data directory; restore a bind-mounted one yourself")
    return str(found["Name"]), str(found["Destination"])


# ---- restores ---------------------------------------------------------------------------------


RESTORE_ATTEMPTS = 3
# An app service creating its table at the moment pg_restore creates the same one (after --clean
# found none to drop): "duplicate key value violates unique constraint pg_type_typname_nsp_index"
# (seen in CI). The restore is one transaction, so nothing of it stayed; again, --clean drops the
# app's table first and the race is gone.
_CONCURRENT_CREATE = ("duplicate key value violates unique constraint", "already exists")


def _pg_restore(leader: Container, argv: list[str], *, user: str = "root",
                env: Mapping[str, str] | None = None) -> None:
    for attempt in range(RESTORE_ATTEMPTS):
        try:
            dockerio.run(leader, argv, user=user, env=env)
            return
        except FaultError as exc:
            if attempt + 1 == RESTORE_ATTEMPTS or not any(m in str(exc) for m in _CONCURRENT_CREATE):
                raise


def restore_dump(stack: BackupLive, backup: Backup, timeout_s: float, clock: Clock) -> Restore:
    """New cluster (fresh bootstrap), then pg_restore --single-transaction --clean of the dump into
    the stack's database."""
    started = clock()
    steps: dict[str, float] = {}
    stack.compose("up", "-d", "--no-deps", *pg_services(stack))
    forget_cluster(stack)
    leader = wait_leader(stack, timeout_s)
    steps["new_cluster_s"] = clock() - started
    t = clock()
    pg = stack.definition.component("postgres", PostgresBase)
    user, password = login(stack, "superuser")
    with connect(stack, service_of(leader)) as conn:
        runs_as = os_user(pg, leader, lambda: data_directory(pg, conn))
    uid, gid = _user_ids(leader, runs_as)
    inside = "/tmp/drills-restore.dump"
    dockerio.put_file(leader, Path(backup.location), "/tmp", "drills-restore.dump", uid=uid, gid=gid)
    try:
        # --clean: the restarted app services may already have created their (empty) tables in the new
        # cluster; the dump's objects replace them, all in one transaction.
        _pg_restore(leader, tool_argv("pg_restore", pg, user, "--single-transaction", "--exit-on-error", "--clean",
                                      "--if-exists", "-d", pg.database, inside),
                    user=runs_as, env={"PGPASSWORD": password})
    finally:
        leader.exec_run(["rm", "-f", inside], user="root")
    steps["load_s"] = clock() - t
    return _verified(stack, backup, leader, started, steps=steps, clock=clock)


# Run by sh in a helper: "$1" the data directory, "$2" its owner (chown's `user:` or `uid:gid`). The
# directory is emptied rather than removed: it may be the volume's mount point itself.
_EMPTY = 'mkdir -p "$1" && find "$1" -mindepth 1 -maxdepth 1 -exec rm -rf {} +'
_OWNED = 'chown -R "$2" "$1" && chmod 0700 "$1"'
_NOT_A_STANDBY = 'rm -f "$1/standby.signal" "$1/recovery.signal" "$1/postmaster.pid"'


def restore_snapshot(stack: BackupLive, backup: Backup, timeout_s: float, clock: Clock) -> Restore:
    """New disk for the first node from the snapshot; it leads a new cluster; the others clone it."""
    started = clock()
    steps: dict[str, float] = {}
    pg = stack.definition.component("postgres", PostgresBase)
    data_dir = pg.data_dir or backup.source_path
    if not data_dir:
        raise FaultError(f"the snapshot {backup.id} does not say which data directory it was taken from",
                         hint="say it in the stack file: components: postgres: data_dir: /path/inside/the/nodes")
    services = pg_services(stack)
    stack.compose("up", "-d", "--no-deps", *services)  # the nodes exist (a total failure removed them)
    nodes = {service_of(c): require_owned(c, stack.project) for c in stack.containers("postgres")}
    scope = patroni_scope(stack)  # before the nodes stop: their REST API may be what says it
    for c in nodes.values():
        c.stop(timeout=5)
    forget_cluster(stack, scope)
    first = nodes[services[0]]
    image = str(first.attrs["Config"]["Image"])
    owner = f"{pg.os_user}:" if pg.os_user else ""
    # The first node first: without `os_user`, its files' owner in the snapshot says whom the others' are.
    for service, c in sorted(nodes.items(), key=lambda item: item[1] is not first):
        mount = data_mount(c.attrs.get("Mounts") or [], data_dir, str(c.name))
        helper = _helper(stack, image, mount, f"{stack.project}-restore-{service}-{int(time.time())}")
        try:
            dockerio.run(helper, ["sh", "-c", _EMPTY, "sh", data_dir], user="root")
            if c is first:
                dockerio.put_tar(helper, Path(backup.location), data_dir)
                owner = owner or dockerio.run(helper, ["stat", "-c", "%u:%g", f"{data_dir}/PG_VERSION"],
                                              user="root").strip()
                dockerio.run(helper, ["sh", "-c", f"{_NOT_A_STANDBY} && {_OWNED}", "sh", data_dir, owner], user="root")
            else:
                dockerio.run(helper, ["sh", "-c", _OWNED, "sh", data_dir, owner], user="root")
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


def _verified(stack: BackupLive, backup: Backup, leader: Container, started: float, *, steps: dict[str, float],
              clock: Clock) -> Restore:
    t = clock()
    with connect(stack, service_of(leader)) as conn:
        got = digest(conn, backup.max_seq if backup.max_seq is not None else -1)
    steps["verify_s"] = clock() - t
    return Restore(backup.id, "postgres", backup.method, started, clock(), True, rows=got.rows, max_seq=got.max_seq,
                   checksum=got.checksum, steps_s={k: round(v, 3) for k, v in steps.items()})
