"""Faults on real containers: inject, heal, and `drill clean` after the runner is SIGKILLed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from drills.core import local_state
from drills.faults import heal, ledger, netns
from drills.faults.base import FaultContext
from drills.faults.process import Kill, Pause, kill, pause
from drills.faults.storage import Corrupt, DiskLoss, corrupt, disk_loss
from drills.provision import base_image
from tests.integration.mini.target import MiniTarget

pytestmark = pytest.mark.docker
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def mini(docker_client, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    base = base_image.resolve(docker_client)
    assert base is not None, "run `drill setup` first"
    monkeypatch.setenv("DRILLS_BASE", base)
    project = f"drills-test-{uuid.uuid4().hex[:8]}"
    target = MiniTarget(project)
    target.compose("up", "-d", "--quiet-pull")
    yield target
    target.compose("down", "-v", "--timeout", "1")


def ping(target: MiniTarget, src: str, dst_ip: str) -> bool:
    [c] = target.containers(src)
    # bash's /dev/tcp needs no tools in the image; a closed port answers RST fast, a DROP times out.
    probe = c.exec_run(["timeout", "2", "bash", "-c", f"exec 3<>/dev/tcp/{dst_ip}/9; echo open"])
    return probe.exit_code != 124  # 124: timed out -> packets dropped


def rules_in(target: MiniTarget, service: str) -> str:
    [c] = target.containers(service)
    return netns.run(c, ["iptables", "-w", "-S"]).stdout


def test_kill_and_heal_restarts_the_node(mini):
    entry = kill(Kill(fault="kill", target="a"), FaultContext(mini, "k1"))
    [a] = mini.containers("a")
    assert a.status == "exited"
    assert [e.fault_id for e in ledger.pending(mini.project)] == ["k1"]
    heal.heal_entry(mini.client, entry)
    a.reload()
    assert a.status == "running"
    assert ledger.pending(mini.project) == []


def test_disk_loss_gives_a_new_empty_disk_under_the_same_hostname(mini):
    [a] = mini.containers("a")
    assert a.exec_run(["sh", "-c", "echo precious > /data/file"]).exit_code == 0
    entry = disk_loss(DiskLoss(fault="disk-loss", target="a"), FaultContext(mini, "d1"))
    assert mini.containers("a") == []
    heal.heal_entry(mini.client, entry, compose=mini.compose)
    [new] = mini.containers("a")
    assert new.id != a.id and new.name == a.name, "a new server under the same name"
    assert new.exec_run(["test", "-e", "/data/file"]).exit_code == 1, "the new disk must be empty"


def test_corruption_changes_the_data_files(mini):
    [a] = mini.containers("a")
    a.exec_run(["sh", "-c", "head -c 65536 /dev/zero > /data/table"])
    before = a.exec_run(["md5sum", "/data/table"]).output
    entry = corrupt(Corrupt(fault="corrupt", target="a", files=1), FaultContext(mini, "c1"))
    after = mini.containers("a")[0].exec_run(["md5sum", "/data/table"]).output
    assert before != after
    heal.heal_entry(mini.client, entry)


def test_faults_never_touch_unlabelled_containers(mini, docker_client):
    decoy = docker_client.containers.run(os.environ["DRILLS_BASE"], ["sleep", "infinity"], detach=True,
                                         name=f"decoy-{uuid.uuid4().hex[:6]}", init=True)
    try:
        class Sneaky(MiniTarget):
            def containers(self, role):
                return [decoy] if role == "decoy" else super().containers(role)

        sneaky = Sneaky(mini.project)
        with pytest.raises(Exception, match="refusing to touch"):
            pause(Pause(fault="pause", target="decoy"), FaultContext(sneaky, "x1"))
        decoy.reload()
        assert decoy.status == "running"
    finally:
        decoy.remove(force=True)


def test_clean_heals_and_removes_after_the_runner_is_sigkilled(mini, docker_client, tmp_path):
    decoy = docker_client.containers.run(os.environ["DRILLS_BASE"], ["sleep", "infinity"], detach=True,
                                         name=f"decoy-{uuid.uuid4().hex[:6]}", init=True)
    try:
        [b] = mini.containers("b")
        b_ip = mini.ip_of(b)
        assert ping(mini, "a", b_ip)
        runner = subprocess.Popen([sys.executable, "-m", "tests.integration.mini.faulty", mini.project],
                                  cwd=ROOT, stdout=subprocess.PIPE, text=True, env=os.environ.copy())
        assert runner.stdout is not None
        assert runner.stdout.readline().strip() == "APPLIED"
        assert not ping(mini, "a", b_ip), "the partition must cut a from b"
        b.reload()
        assert b.status == "paused"
        runner.send_signal(signal.SIGKILL)
        runner.wait()
        runner.stdout.close()

        # Scoped to this project, as a test on a shared engine should be (test_run_sigkill.py runs
        # the unscoped `drill clean` against the machine's own state).
        done = subprocess.run([sys.executable, "-m", "drills", "clean", "--project", mini.project],
                              capture_output=True, text=True, timeout=120, env=os.environ.copy())
        assert done.returncode == 0, done.stderr
        assert "healed" in done.stdout and "removed" in done.stdout
        selector = {"label": f"com.docker.compose.project={mini.project}"}
        assert docker_client.containers.list(all=True, filters=selector) == []
        assert docker_client.networks.list(filters=selector) == []
        assert docker_client.volumes.list(filters=selector) == []
        assert ledger.pending(mini.project) == []
        decoy.reload()
        assert decoy.status == "running", "a container without the label must be untouched"
    finally:
        decoy.remove(force=True)


def test_clean_project_heals_a_stack_up_stack_and_keeps_it(mini, docker_client):
    # What `drill stack up` leaves: an owner record of kind "stack" whose process has long exited.
    # A drill against it is SIGKILLed with a partition and a pause applied; `drill clean --project`
    # must heal both and keep every container and volume (it used to remove them all).
    done_up = subprocess.Popen([sys.executable, "-c", "pass"])
    done_up.wait()
    local_state.register_owner(mini.project, "stack")
    record = local_state.state_dir() / "projects" / f"{mini.project}.json"
    record.write_text(json.dumps({**json.loads(record.read_text()), "pid": done_up.pid}))
    selector = {"label": f"com.docker.compose.project={mini.project}"}
    containers = {c.name: c.id for c in docker_client.containers.list(all=True, filters=selector)}
    volumes = {v.name: v.attrs["CreatedAt"] for v in docker_client.volumes.list(filters=selector)}
    assert len(containers) == 2 and len(volumes) == 1
    [b] = mini.containers("b")
    b_ip = mini.ip_of(b)
    runner = subprocess.Popen([sys.executable, "-m", "tests.integration.mini.faulty", mini.project, "--against-stack"],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    assert runner.stdout is not None
    assert runner.stdout.readline().strip() == "APPLIED"
    assert not ping(mini, "a", b_ip)
    runner.send_signal(signal.SIGKILL)
    runner.wait()
    runner.stdout.close()

    done = subprocess.run([sys.executable, "-m", "drills", "clean", "--project", mini.project],
                          capture_output=True, text=True, timeout=120, env=os.environ.copy())
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"healed   {mini.project}: partition" in done.stdout and f"healed   {mini.project}: pause" in done.stdout
    assert f"kept     {mini.project}: a `drill stack up` stack" in done.stdout, done.stdout
    assert "removed" not in done.stdout, done.stdout
    assert {c.name: c.id for c in docker_client.containers.list(filters=selector)} == containers, "all kept, running"
    assert {v.name: v.attrs["CreatedAt"] for v in docker_client.volumes.list(filters=selector)} == volumes
    assert ping(mini, "a", b_ip), "the partition is healed"
    assert ledger.pending(mini.project) == []
