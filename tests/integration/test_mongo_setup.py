"""`drill setup` pulls the MongoDB image where a registry answers; where none does it says so once,
finishes, and does not try again on every call; `drill doctor` names the drills that leaves out;
`drill run` reports them NOT RUN. Driven through the CLI against the real engine.

The MongoDB image is named through DRILLS_MONGO_IMAGE with an `.invalid` registry (RFC 2606: it
never resolves), so each test means the same on a machine that has `mongo:7` and on one without.
"""

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from drills.provision import base_image

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
ABSENT = "drills-test.invalid/mongo:7"


def mongo_scenarios() -> list[str]:
    """Ids of the project's scenarios that say `requires: [mongo:7]`, read from the files."""
    ids = []
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        doc = YAML(typ="safe").load(path.read_text())
        if "mongo:7" in (doc.get("requires") or []):
            ids.append(doc["id"])
    return sorted(ids)


def drill(*args: str, mongo_image: str, cache: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DRILLS_MONGO_IMAGE": mongo_image, "XDG_CACHE_HOME": str(cache)}
    return subprocess.run([sys.executable, "-m", "drills", *args], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=ROOT)


def doctor_json(mongo_image: str, cache: Path) -> dict:
    done = drill("doctor", "--json", mongo_image=mongo_image, cache=cache)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def mongo_check(report: dict) -> dict:
    return next(c for c in report["checks"] if c["name"] == "mongo image")


def test_doctor_lists_the_drills_an_absent_mongo_image_leaves_out(docker_client, tmp_path):
    expected = mongo_scenarios()
    assert len(expected) >= 6, expected
    report = doctor_json(ABSENT, tmp_path)
    check = mongo_check(report)
    assert check["status"] == "warn", "a missing MongoDB image never blocks the other drills"
    assert check["left_out"] == expected
    assert ABSENT in check["detail"] and all(sid in check["detail"] for sid in expected)
    assert f"docker pull {ABSENT}" in check["fix"] and "docker load" in check["fix"]
    assert {sid: why for sid, why in report["not_run"].items() if sid in expected} == {
        sid: ["mongo image"] for sid in expected}

    table = drill("doctor", mongo_image=ABSENT, cache=tmp_path)
    line = next(x for x in table.stdout.splitlines() if x.startswith("NOT RUN here"))
    assert all(sid in line for sid in expected), table.stdout


def test_doctor_counts_the_sites_own_image_as_the_mongo_image(docker_client, tmp_path):
    # Any image that is here stands in for the site's mirror: doctor judges presence, not content.
    present = base_image.resolve(docker_client)
    assert present is not None, "run `drill setup` first"
    report = doctor_json(present, tmp_path)
    check = mongo_check(report)
    assert check["status"] == "ok" and check["left_out"] == [], check
    assert check["detail"] == f"{present} (for mongo:7)"
    assert not set(report["not_run"]) & set(mongo_scenarios())


def test_setup_says_once_that_mongo_cannot_be_pulled_and_does_not_retry_every_call(docker_client, tmp_path):
    first = drill("setup", "--no-images", mongo_image=ABSENT, cache=tmp_path)
    assert first.returncode == 0, first.stderr
    assert f"pulling {ABSENT}" in first.stderr
    warnings = [x for x in first.stderr.splitlines() if " !! " in x]
    assert len(warnings) == 1 and "could not be pulled" in warnings[0] and "NOT RUN" in warnings[0], first.stderr
    assert "ready in" in first.stderr.splitlines()[-1]
    assert (tmp_path / "drills" / "mongo-pull-failed.json").is_file()

    second = drill("setup", "--no-images", mongo_image=ABSENT, cache=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "pulling" not in second.stderr, "a failure just seen is not retried on every call"
    warnings = [x for x in second.stderr.splitlines() if " !! " in x]
    assert len(warnings) == 1 and "--retry-pull" in warnings[0] and "NOT RUN" in warnings[0], second.stderr

    check = mongo_check(doctor_json(ABSENT, tmp_path))
    assert "last pull failed" in check["detail"], check

    third = drill("setup", "--no-images", "--retry-pull", mongo_image=ABSENT, cache=tmp_path)
    assert third.returncode == 0 and f"pulling {ABSENT}" in third.stderr, third.stderr

    skipped = drill("setup", "--no-images", "--no-mongo", "--retry-pull", mongo_image=ABSENT, cache=tmp_path)
    assert skipped.returncode == 0 and "MongoDB" not in skipped.stderr, skipped.stderr


def test_setup_gives_up_on_a_registry_that_never_answers(docker_client, tmp_path):
    # A "registry" on 127.0.0.1 that accepts connections and never says a word: the engine would
    # wait on it far longer than a setup should.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.5)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    image = f"127.0.0.1:{server.getsockname()[1]}/mongo:7"
    try:
        done = drill("setup", "--no-images", "--pull-timeout", "2", mongo_image=image, cache=tmp_path)
    finally:
        stop.set()
        thread.join(5)
        for s in [*held, server]:
            s.close()
    assert done.returncode == 0, done.stderr
    assert "reported nothing for 2 s" in done.stderr and "NOT RUN" in done.stderr, done.stderr


def test_run_reports_mongo_drills_not_run_and_names_the_image(docker_client, tmp_path):
    reports = tmp_path / "reports"
    done = drill("run", "scenarios/mongo-primary-kill.yaml", "--reports", str(reports), mongo_image=ABSENT,
                 cache=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"NOT RUN mongo-primary-kill: image {ABSENT} (for mongo:7) absent" in done.stderr
    [journal] = list(reports.glob("*/journal.json"))
    data = json.loads(journal.read_text())
    assert data["status"] == "not-run"
    assert ABSENT in data["reason"] and "drill doctor" in data["reason"]
