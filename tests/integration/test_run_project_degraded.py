"""`drill run --project P` on a `drill stack up` stack that is not as the scenarios expect:

- brought up without MongoDB (its image was absent then, present now): the MongoDB scenarios are
  NOT RUN with the reason, the others run (the run used to end with exit 3);
- not back at its baseline before a scenario (a container stopped): the stack is brought back with
  its volumes, and the scenario is drilled from that baseline, its record saying why (the run used
  to end at once with exit 3, then to cost the scenario an ERROR).

Through the CLI, on one reference stack in the machine's own state directory. `DRILLS_MONGO_IMAGE`
names an image that is here (the base image) so that `requires: [mongo:7]` is answered, as after
`docker pull mongo:7` on a stack brought up before it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from drills.provision import base_image
from tests.integration.test_run_repeat import SCENARIO as SHORT

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(1800)]
ROOT = Path(__file__).resolve().parents[2]


def drill(*args: str, env: dict[str, str] | None = None, timeout_s: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "drills", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout_s, env=env or os.environ.copy())


@pytest.fixture(scope="module")
def project() -> Iterator[str]:
    name = f"drills-degraded-{uuid.uuid4().hex[:6]}"
    env = {k: v for k, v in os.environ.items() if k != "DRILLS_MONGO_IMAGE"}
    try:
        up = drill("stack", "up", "--project", name, "--timeout", "300", env=env)
        assert up.returncode == 0, up.stdout + up.stderr
        yield name
    finally:
        drill("stack", "down", "--project", name)


@pytest.fixture
def short(tmp_path: Path) -> Path:
    path = tmp_path / "repeat-short.yaml"
    # The wait for the baseline before a scenario is its recovery timeout: short, to fail fast.
    path.write_text(SHORT.replace("timeout: 60s", "timeout: 30s"))
    return path


def test_mongo_scenarios_are_not_run_on_a_stack_brought_up_without_mongo(docker_client, project, short, tmp_path):
    base = base_image.resolve(docker_client)
    assert base is not None
    env = {**os.environ, "DRILLS_MONGO_IMAGE": base}
    done = drill("run", "--project", project, "--reports", str(tmp_path / "reports"), "--summary",
                 str(tmp_path / "summary.json"), str(ROOT / "scenarios" / "mongo-primary-kill.yaml"), str(short),
                 env=env)
    assert done.returncode in (0, 1), done.stderr[-3000:]  # never 3: the harness did not fail
    assert (f"NOT RUN mongo-primary-kill: stack api-fortress-ha ({project}) has no mongo service: it was brought up "
            "without it") in done.stderr, done.stderr[-3000:]
    assert "`drill run` without --project" in done.stderr
    runs = {r["scenario"]: r for r in json.loads((tmp_path / "summary.json").read_text())["runs"]}
    assert runs["mongo-primary-kill"]["status"] == "not-run"
    assert runs["repeat-short"]["status"] in ("passed", "failed"), "the other scenario ran"


def test_a_stack_not_at_its_baseline_is_brought_back_and_drilled(docker_client, project, short, tmp_path):
    selector = {"label": [f"com.docker.compose.project={project}", "com.docker.compose.service=worker1"]}
    [worker] = docker_client.containers.list(filters=selector)
    volumes = {v.name for v in docker_client.volumes.list(filters={"label": f"com.docker.compose.project={project}"})}
    worker.stop(timeout=1)  # the readiness wait before the first run sees it exited
    done = drill("run", "--project", project, "--repeat", "2", "--reports", str(tmp_path / "reports"),
                 "--summary", str(tmp_path / "summary.json"), str(short))
    log = done.stderr
    assert "repeat-short: the stack was not back at its baseline before this scenario" in log, log[-3000:]
    assert "worker1" in log and f"stack {project} not at its baseline: bringing it back" in log
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["interrupted"] is False
    assert [(r["index"], r["complete"]) for r in summary["repetitions"]] == [(1, True), (2, True)]
    first, second = summary["runs"]
    assert first["status"] in ("passed", "failed") and second["status"] in ("passed", "failed"), summary["runs"]
    [journal] = [json.loads(p.read_text()) for p in (tmp_path / "reports").glob("*/journal.json")
                 if json.loads(p.read_text())["run_id"] == first["run_id"]]
    assert "brought back, then drilled" in journal["reason"] and "worker1" in journal["reason"], journal["reason"]
    assert done.returncode == summary["exit_code"] != 3, "the harness did not fail"
    worker.reload()
    assert worker.status == "running"
    after = {v.name for v in docker_client.volumes.list(filters={"label": f"com.docker.compose.project={project}"})}
    assert after == volumes, "a --project stack is brought back with its volumes"
