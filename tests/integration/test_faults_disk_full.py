"""disk-full on the reference stack: a PostgreSQL replica's data volume filled to ENOSPC, then healed.

The replica is first given a size-limited volume (tmpfs, 256 MiB): the reference stack's volumes are
directories of the host's disk, which the fault refuses to fill (that is tested here too).
"""

from __future__ import annotations

import time
import uuid

import pytest

from drills.core.dockerlabels import volumes_of
from drills.core.errors import FaultError
from drills.faults import heal, ledger, registry
from drills.faults.base import FaultContext
from drills.faults.disk_full import FILE_PREFIX, DiskFull, free_bytes
from drills.stack import ComposeProject

pytestmark = pytest.mark.docker
PGDATA = "/var/lib/postgresql/data"


@pytest.fixture(scope="module")
def stack(docker_client):
    with ComposeProject.create(client=docker_client, profiles={"mongo": False}) as sp:
        yield sp


def pg(stack, service, sql, *args):
    import psycopg

    host, port = stack.endpoint(service, 5432)
    with psycopg.connect(host=host, port=port, user="postgres", password=stack.settings.secrets.pg_superuser_password,
                         dbname="postgres", connect_timeout=3, autocommit=True) as conn:
        cursor = conn.execute(sql, args)
        return cursor.fetchall() if cursor.description is not None else []


def wait_until(what, check, timeout_s=180.0):
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception as exc:  # not yet: the node is restarting, or the port is not published yet
            last = exc
        time.sleep(1.0)
    pytest.fail(f"{what} not within {timeout_s:g} s (last error: {last})")


def streaming(stack, replica):
    [leader] = stack.services("postgres.leader")
    return pg(stack, leader, "SELECT state FROM pg_stat_replication WHERE application_name = %s", replica) == [
        ("streaming",)]


def give_a_small_disk(stack, service, size="256m"):
    """Replace the node's data volume by a tmpfs of `size` with the same name and labels; Patroni
    clones the replica back from the leader."""
    [container] = stack.containers(service)
    [name] = volumes_of(container)
    labels = stack.client.volumes.get(name).attrs["Labels"]
    stack.compose("rm", "--stop", "--force", service)
    stack.client.volumes.get(name).remove()
    stack.client.volumes.create(name, driver="local", labels=labels,
                                driver_opts={"type": "tmpfs", "device": "tmpfs", "o": f"size={size}"})
    stack.compose("up", "-d", "--no-deps", service)
    wait_until(f"{service} streaming on its small disk", lambda: streaming(stack, service))
    return name


def test_a_volume_on_the_hosts_disk_is_refused_before_anything_is_written(stack):
    [replica] = stack.services("postgres.replica[1]")
    fault_id = f"0-disk-full-{uuid.uuid4().hex[:6]}"
    with pytest.raises(FaultError, match="host's own disk"):
        registry.inject(DiskFull(fault="disk-full", target=replica), FaultContext(stack, fault_id))
    assert [e.fault_id for e in ledger.pending(stack.project)] == []
    [container] = stack.containers(replica)
    assert container.exec_run(["sh", "-c", f"ls -a {PGDATA}"]).output.decode().count(FILE_PREFIX) == 0


def test_a_replica_filled_to_enospc_is_healed(stack):
    [replica] = stack.services("postgres.replica[0]")
    volume = give_a_small_disk(stack, replica)
    free_before = free_bytes(stack, volume)
    assert 0 < free_before <= 256 << 20
    fault_id = f"0-disk-full-{uuid.uuid4().hex[:6]}"

    entry = registry.inject(DiskFull(fault="disk-full", target=replica, max_fill=256 << 20),
                            FaultContext(stack, fault_id))
    assert [e.fault_id for e in ledger.pending(stack.project)] == [fault_id]
    assert [a.to_json() for a in entry.heal] == [{"action": "disk-full-remove", "volume": volume,
                                                  "file": f"{FILE_PREFIX}{fault_id}"}]
    assert free_bytes(stack, volume) == 0
    [container] = stack.containers(replica)
    probe = container.exec_run(["sh", "-c", f"head -c 65536 /dev/zero > {PGDATA}/drills-probe"], user="postgres")
    assert probe.exit_code != 0 and b"No space left on device" in probe.output, probe.output

    heal.heal_entry(stack.client, entry, compose=stack.compose)
    assert ledger.pending(stack.project) == []
    assert free_bytes(stack, volume) > free_before // 2, "the file that filled it is gone"
    [container] = stack.containers(replica)
    assert container.exec_run(["test", "-e", f"{PGDATA}/{FILE_PREFIX}{fault_id}"]).exit_code == 1
    container.exec_run(["rm", "-f", f"{PGDATA}/drills-probe"])

    # Healed: the replica streams, and what the leader commits reaches it.
    [leader] = stack.services("postgres.leader")
    token = f"disk-full-{uuid.uuid4().hex[:8]}"
    pg(stack, leader, "CREATE TABLE IF NOT EXISTS drills_disk_full (token text)")
    pg(stack, leader, "INSERT INTO drills_disk_full VALUES (%s)", token)
    wait_until(f"{replica} streaming again", lambda: streaming(stack, replica))
    wait_until(f"the leader's write on {replica}",
               lambda: pg(stack, replica, "SELECT count(*) FROM drills_disk_full WHERE token = %s", token) == [(1,)],
               timeout_s=60.0)
