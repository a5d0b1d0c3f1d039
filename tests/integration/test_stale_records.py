"""Records of stacks that no longer exist: listed as gone, pruned by `drill clean`, refused at once by
`drill run --project`. Through the `drill` CLI, with no stack started: the records are what a
stack leaves behind when its containers, network and volumes are removed behind Drills' back.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from drills.core import local_state
from drills.stack import ports, state
from drills.stack.env import Secrets, StackSettings
from drills.stack.project import compose_file
from tests.integration.test_run_sigkill import SCENARIO

pytestmark = pytest.mark.docker
ROOT = Path(__file__).resolve().parents[2]


def save_record(owner_pid: int | None = None) -> str:
    """The record `drill stack up` leaves (saved settings and owner) of a stack of which nothing is
    left; the owner is a dead process unless `owner_pid` is given."""
    project = f"drills-gone-{uuid.uuid4().hex[:8]}"
    state.save(StackSettings(project=project, subnet=ipaddress.IPv4Network("172.31.254.0/24"), images={},
                             secrets=Secrets.generate(), ports=ports.assign(compose_file().read_text())))
    owner = local_state.register_owner(project, "stack")
    if owner_pid is None:
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        owner_pid = dead.pid
    path = local_state.state_dir() / "projects" / f"{project}.json"
    path.write_text(path.read_text().replace(f'"pid": {owner.pid}', f'"pid": {owner_pid}'))
    return project


def drill(*args: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "drills", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout_s, env=os.environ.copy())


@pytest.fixture
def private_state(tmp_path, monkeypatch):
    # Its cleanups are scoped with --project all the same: a test on a shared engine looks at its own.
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def test_stack_status_lists_gone_stacks_as_gone_not_up(private_state):
    gone = sorted(save_record() for _ in range(2))
    done = drill("stack", "status")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "stacks are up" not in done.stderr and "no stack is up" in done.stderr, done.stderr
    for project in gone:
        assert f"{project}: gone (no container, network or volume left)" in done.stderr, done.stderr
    assert "`drill clean` prunes" in done.stderr

    named = drill("stack", "status", "--project", gone[0])
    assert named.returncode == 3, named.stdout + named.stderr
    assert f"stack {gone[0]}: none of its" in named.stderr and f"drill stack up --project {gone[0]}" in named.stderr


def test_drill_clean_prunes_the_record_of_a_stack_that_is_gone(private_state):
    project, other = save_record(), save_record()
    done = drill("clean", "--project", project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"pruned   {project}: no container, network or volume of it is left" in done.stdout, done.stdout
    assert "nothing to clean" not in done.stdout
    assert project not in state.known() and project not in {o.project for o in local_state.owners()}
    assert other in state.known(), "--project narrows: another record is left alone"

    again = drill("clean", "--project", project)
    assert again.returncode == 0 and "nothing to clean" in again.stdout, again.stdout


def test_a_record_whose_owner_is_alive_is_not_pruned(private_state):
    # `drill stack up` saves its record before `compose up` creates anything: a cleanup in between
    # must not take the record from under it.
    project = save_record(owner_pid=os.getpid())
    done = drill("clean", "--project", project)
    assert done.returncode == 0 and "pruned" not in done.stdout, done.stdout
    assert project in state.known()


def test_drill_run_on_a_gone_stack_says_so_at_once(tmp_path):
    # The machine's own state directory (`drill run` cleans up unscoped before it starts); the
    # record's owner is this live process, so no concurrent `drill clean` prunes it mid-test.
    project = save_record(owner_pid=os.getpid())
    scenario = tmp_path / "gone.yaml"
    scenario.write_text(SCENARIO)
    try:
        t0 = time.monotonic()
        # Before: a readiness wait of the scenario's 60 s, then "not ready (last seen: all healthy)".
        done = drill("run", "--project", project, "--reports", str(tmp_path / "reports"), str(scenario),
                     timeout_s=45)
        print(f"drill run --project on a gone stack: exit {done.returncode} after {time.monotonic() - t0:.1f} s")
        assert done.returncode == 3, done.stdout + done.stderr
        assert f"stack {project}: none of its 19 services has a container" in done.stderr, done.stderr
        assert "pg1" in done.stderr and f"`drill stack up --project {project}`" in done.stderr
        assert "all healthy" not in done.stderr
    finally:
        local_state.forget(project)
        state.forget(project)
