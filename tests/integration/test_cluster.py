"""`drill cluster up/status/down` as a user runs them: two namespaced dockerds in one swarm, an image
from the main engine on both, a service with one task per node reaching the other by DNS name on an
attachable overlay network (dnsrr: this kernel has no IPVS); then `down` leaves nothing. And a SIGKILLed
`up`, after its first daemon answered, is removed whole by `down`.

The main engine is only read (the base image's ID, `docker save`); nothing of it is changed.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from drills.cluster import state
from drills.cluster.plan import RUN_DIR, plan
from drills.provision import base_image, engine
from tests.integration.test_run_sigkill import read_until

pytestmark = [pytest.mark.docker, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
NODES = plan(2, []).nodes
# A listener with what the debootstrapped base has (perl-base is essential): it answers its container ID.
LISTENER = ("use IO::Socket::INET; my $s = IO::Socket::INET->new(LocalPort => 7000, Listen => 5, ReuseAddr => 1)"
            " or die $!; while (my $c = $s->accept) { print $c `hostname`; close $c }")
PROBE = ("use IO::Socket::INET; for my $ip (map { (split)[0] } `getent ahostsv4 tasks.{svc}`) {"
         " my $c = IO::Socket::INET->new(PeerAddr => $ip, PeerPort => 7000, Timeout => 3) or next; print scalar <$c> }")


def drill(*args: str, timeout_s: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "drills", "cluster", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout_s, check=False)


def on(index: int, *args: str, timeout_s: float = 60) -> str:
    """The docker CLI on node `index`; its stdout, failing the test when it fails."""
    result = subprocess.run(["docker", "-H", NODES[index - 1].host, *args], capture_output=True, text=True,
                            timeout=timeout_s, check=False)
    assert result.returncode == 0, f"docker {' '.join(args)} on node-{index}: {result.stderr}"
    return result.stdout


def leftovers() -> list[str]:
    """Everything of a cluster still on this machine."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if str(RUN_DIR) in cmd or "drills-node-" in cmd:
                found.append(f"process {entry.name}: {cmd[:120]}")
    found += [f"namespace {n}" for n in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                                                       check=True).stdout.split() if n.startswith("drills-node-")]
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
    found += [f"link {m}" for m in re.findall(r"^\d+:\s+(drillsc[^:@\s]*)", links, re.MULTILINE)]
    rules = subprocess.run(["iptables", "-w", "-S"], capture_output=True, text=True, check=True).stdout
    found += [f"rule {line}" for line in rules.splitlines() if "drills-cluster" in line]
    if RUN_DIR.exists():
        found.append(f"{RUN_DIR} ({', '.join(p.name for p in RUN_DIR.iterdir())})")
    found += [f"state {p}" for p in state.cluster_dir().iterdir() if p.name != "lock"]
    mounts = Path("/proc/self/mountinfo").read_text()
    found += [f"mount {line.split()[4]}" for line in mounts.splitlines()
              if str(RUN_DIR) in line or str(state.cluster_dir()) in line]
    return found


@pytest.fixture
def no_cluster_before_and_after() -> Iterator[None]:
    # A cluster a user built is theirs: the test would remove it, so it refuses to start instead.
    assert not leftovers(), f"a cluster is already here; remove it with `drill cluster down`: {leftovers()}"
    try:
        yield
    finally:
        down = drill("down")
        assert down.returncode == 0, down.stderr
        assert not leftovers(), f"left after `drill cluster down`:\n{down.stderr}"


@pytest.fixture(scope="module")
def base() -> str:
    found = base_image.resolve(engine.client())
    assert found is not None, "no base image on the main engine: run `drill setup`"
    return found


def test_two_nodes_one_swarm_a_service_across_them_then_nothing_left(
        base: str, no_cluster_before_and_after: None) -> None:
    t0 = time.monotonic()
    built = drill("up", "--nodes", "2", "--images", base)
    assert built.returncode == 0, built.stderr
    up_s = time.monotonic() - t0
    assert "node-2: loaded" in built.stderr

    again = drill("up", "--nodes", "2", "--images", base)  # idempotent: finds it all there
    assert again.returncode == 0, again.stderr
    assert "has " + base + " already" in again.stderr and "starting dockerd" not in again.stderr

    status = drill("status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert re.search(r"node-1 .* up +manager +active, ready", status.stdout), status.stdout
    assert re.search(r"node-2 .* up +worker +active, ready", status.stdout), status.stdout

    listed = [json.loads(line) for line in on(1, "node", "ls", "--format", "{{json .}}").splitlines()]
    ids = {json.loads(on(i, "info", "--format", "{{json .Swarm.NodeID}}")) for i in (1, 2)}
    assert {n["ID"] for n in listed} == ids and all(n["Status"] == "Ready" for n in listed)
    main_id = engine.client().images.get(base).id
    assert [on(i, "image", "inspect", "--format", "{{.Id}}", base).strip() for i in (1, 2)] == [main_id] * 2

    svc = f"probe-{uuid.uuid4().hex[:6]}"
    on(1, "network", "create", "--driver", "overlay", "--attachable", f"{svc}-net")
    on(1, "service", "create", "--detach", "--name", svc, "--mode", "global", "--endpoint-mode", "dnsrr",
       "--network", f"{svc}-net", base, "perl", "-e", LISTENER)
    deadline = time.monotonic() + 90
    while True:
        containers = {i: on(i, "ps", "-q", "--filter", f"label=com.docker.swarm.service.name={svc}").split()
                      for i in (1, 2)}
        if all(containers.values()) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert all(containers.values()), f"one task per node expected: {containers}\n{on(1, 'service', 'ps', svc)}"
    task_on_1 = containers[1][0][:12]
    deadline = time.monotonic() + 30
    while True:  # the task's name reaches DNS shortly after it runs
        heard = on(2, "exec", containers[2][0], "perl", "-e", PROBE.replace("{svc}", svc)).split()
        if task_on_1 in heard or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert task_on_1 in heard, f"node-2's task did not reach node-1's by tasks.{svc}: heard {heard}"

    t0 = time.monotonic()
    down = drill("down")
    down_s = time.monotonic() - t0
    assert down.returncode == 0, down.stderr
    assert "removed bridge drillsc0" in down.stderr and "removed namespace drills-node-2" in down.stderr
    assert not leftovers()
    print(f"up {up_s:.1f} s, down {down_s:.1f} s")


def test_a_sigkilled_up_is_removed_whole_by_down(base: str, no_cluster_before_and_after: None) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "drills", "cluster", "up", "--nodes", "2", "--images", base],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen: list[str] = []
    try:
        read_until(proc, r"node-1: dockerd answers", 120, seen)
        proc.send_signal(signal.SIGKILL)  # no finally, no handler: what it started stays
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stderr is not None
        proc.stderr.close()
    assert leftovers(), "the killed `up` should have left its daemons and wiring"
    down = drill("down")
    assert down.returncode == 0, down.stderr
    assert "removed dockerd of node-1" in down.stderr, down.stderr
    assert not leftovers(), f"left after `drill cluster down`:\n{down.stderr}"
