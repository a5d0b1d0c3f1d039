"""ComposeProject without Docker: the compose file's conventions, port picking, retry of `up`."""

import dataclasses
import ipaddress
import re
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from drills.core.errors import StackError
from drills.stack import ports
from drills.stack.env import Secrets, StackSettings, compose_env
from drills.stack.project import ComposeProject, compose_file, default_definition

COMPOSE = compose_file()


@pytest.fixture(scope="module")
def model():
    return YAML(typ="safe").load(COMPOSE.read_text())


def test_every_published_port_is_localhost_and_pinnable(model):
    for name, svc in model["services"].items():
        for spec in svc.get("ports", []):
            var = f"DRILLS_PORT_{name.upper().replace('-', '_')}_{spec.rsplit(':', 1)[1]}"
            assert spec == f"127.0.0.1:${{{var}:-}}:{spec.rsplit(':', 1)[1]}", (name, spec)


def test_every_resource_carries_the_drills_labels(model):
    for kind in ("services", "networks", "volumes"):
        for name, item in model[kind].items():
            labels = (item or {}).get("labels") or {}
            assert labels.get("io.drills.managed") == "true", (kind, name)
            assert labels.get("io.drills.project", "").startswith("${COMPOSE_PROJECT_NAME"), (kind, name)


def test_local_images_come_from_drills_image_variables(model):
    for name, svc in model["services"].items():
        image = svc["image"]
        assert image.startswith(("${DRILLS_IMAGE_", "${DRILLS_MONGO_IMAGE")), (name, image)
        match = re.match(r"\$\{DRILLS_IMAGE_([A-Z_]+):-drills/([a-z-]+):latest\}$", image)
        if match:
            assert match.group(1) == match.group(2).upper().replace("-", "_")
            assert (COMPOSE.parent / "fixtures" / "images" / match.group(2) / "Dockerfile").is_file()


def test_data_members_have_fixed_addresses_and_own_volumes(model):
    fixed = {}
    for name, svc in model["services"].items():
        nets = svc.get("networks")
        if isinstance(nets, dict) and nets["stack"] and "ipv4_address" in nets["stack"]:
            fixed[name] = int(nets["stack"]["ipv4_address"].rsplit(".", 1)[1])
    data = {"etcd1": 11, "etcd2": 12, "etcd3": 13, "pg1": 21, "pg2": 22, "pg3": 23,
            "rabbit1": 31, "rabbit2": 32, "rabbit3": 33, "mongo1": 41, "mongo2": 42, "mongo3": 43}
    assert {k: v for k, v in fixed.items() if k in data} == data
    others = {k: v for k, v in fixed.items() if k not in data}
    assert all(50 <= v <= 127 for v in others.values()), f"fixed app-tier addresses belong in .50-.127: {others}"
    assert len(set(fixed.values())) == len(fixed)
    named = [m.split(":")[0] for svc in model["services"].values() for m in svc.get("volumes", [])
             if isinstance(m, str) and not m.startswith((".", "/", "~"))]
    assert sorted(named) == sorted(model["volumes"]), "each node its own volume, each volume one node"


def test_port_variables_and_free_ports():
    text = COMPOSE.read_text()
    names = ports.port_variables(text)
    assert "DRILLS_PORT_PG1_5432" in names and "DRILLS_PORT_LB_8080" in names and len(names) == len(set(names))
    picked = ports.assign(text)
    assert sorted(picked) == names and len(set(picked.values())) == len(names)
    assert all(1024 < p < 65536 for p in picked.values())
    assert ports.is_conflict_error("Bind for 127.0.0.1:40001 failed: port is already allocated")


def settings():
    return StackSettings(project="drills-t1", subnet=ipaddress.IPv4Network("172.30.9.0/24"), images={},
                         secrets=Secrets.generate(), profiles=("mongo",), ports={"DRILLS_PORT_PG1_5432": 40001})


def test_argv_and_env(monkeypatch):
    monkeypatch.setattr("drills.stack.project.compose_command", lambda: ["docker", "compose"])
    definition = dataclasses.replace(default_definition(), overrides=(Path("/x/o1.yml"), Path("/x/o2.yml")))
    sp = ComposeProject(dataclasses.replace(settings(), definition=definition))
    # No engine in a unit test: the network is "not there", so the settings' subnet answers.
    monkeypatch.setattr("drills.stack.project.network.read_ipam", lambda client, name: None)
    sp._client = object()  # type: ignore[assignment]
    assert sp.argv("up", "-d") == ["docker", "compose", "-p", "drills-t1", "-f", str(compose_file()),
                                   "-f", "/x/o1.yml", "-f", "/x/o2.yml", "--profile", "mongo", "up", "-d"]
    assert compose_env(sp.settings)["DRILLS_PORT_PG1_5432"] == "40001"
    assert sp.gateway_ip() == "172.30.9.1" and sp.network_name == "drills-t1_stack"


class ScriptedCompose:
    """Answers `compose up` from a script of (returncode, stderr); records every call."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.calls = []

    def __call__(self, *args, **kwargs):
        self.calls.append(args)
        code, err = self.answers.pop(0) if args[0] == "up" else (0, "")
        return subprocess.CompletedProcess(list(args), code, "", err)


@pytest.fixture
def isolated_state(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))


def test_up_repicks_a_subnet_taken_meanwhile(monkeypatch, isolated_state):
    sp = ComposeProject(settings(), client=object())
    script = ScriptedCompose([(1, "Error response from daemon: Pool overlaps with other one on this address space"),
                              (0, "")])
    monkeypatch.setattr(sp, "run_compose", script)
    new = ipaddress.IPv4Network("172.30.10.0/24")
    monkeypatch.setattr("drills.stack.subnets.choose", lambda client, avoid: new)
    report = sp.up(wait=False)
    assert sp.settings.subnet == new and report.ready_s == {}
    assert [c[0] for c in script.calls] == ["up", "down", "up"]


def test_up_repicks_ports_taken_meanwhile_and_gives_up_after_three_tries(monkeypatch, isolated_state):
    sp = ComposeProject(settings(), client=object())
    taken = (1, "Bind for 127.0.0.1:40001 failed: port is already allocated")
    monkeypatch.setattr(sp, "run_compose", ScriptedCompose([taken, taken, taken]))
    with pytest.raises(StackError, match="port is already allocated"):
        sp.up(wait=False)
    assert sp.settings.ports != {"DRILLS_PORT_PG1_5432": 40001}


def test_up_does_not_retry_other_failures(monkeypatch, isolated_state):
    sp = ComposeProject(settings(), client=object())
    script = ScriptedCompose([(1, "no such image: drills/patroni:abc")])
    monkeypatch.setattr(sp, "run_compose", script)
    with pytest.raises(StackError, match="no such image"):
        sp.up(wait=False)
    assert len(script.calls) == 1


def test_a_stack_that_does_not_get_ready_is_booted_afresh_once(monkeypatch, isolated_state):
    from drills.stack.project import NotReady

    sp = ComposeProject(settings(), client=object())
    script = ScriptedCompose([(0, "")] * 4)
    monkeypatch.setattr(sp, "run_compose", script)
    monkeypatch.setattr(sp, "laggards_report", lambda: "--- worker1: running unhealthy")
    outcomes = [StackError("containers healthy: not ready after 120.0 s"), {"postgres": 9.0}]

    def wait_ready(*_args, **_kwargs):
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr("drills.stack.readiness.wait_ready", wait_ready)
    assert sp.up().ready_s == {"postgres": 9.0}
    assert [c[0] for c in script.calls] == ["up", "down", "up"]

    outcomes[:] = [StackError("not ready"), StackError("still not ready")]
    with pytest.raises(NotReady, match="still not ready") as err:
        sp.up()
    assert "worker1: running unhealthy" in str(err.value)


def test_a_saved_stack_brought_back_is_never_taken_down_to_retry(monkeypatch, isolated_state):
    # `drill stack up --project P` on a saved stack: its volumes hold the user's data, and both
    # retries of a new stack (another subnet, a fresh boot) start with `down -v`.
    sp = ComposeProject(settings(), client=object())
    script = ScriptedCompose([(1, "Error response from daemon: Pool overlaps with other one on this address space")])
    monkeypatch.setattr(sp, "run_compose", script)
    with pytest.raises(StackError, match="overlaps"):
        sp.up(wait=False, keep_volumes=True)
    assert [c[0] for c in script.calls] == ["up"]

    script = ScriptedCompose([(0, "")] * 2)
    monkeypatch.setattr(sp, "run_compose", script)
    monkeypatch.setattr(sp, "laggards_report", lambda: "")

    def not_ready(*_args, **_kwargs):
        raise StackError("containers healthy: not ready after 120.0 s")

    monkeypatch.setattr("drills.stack.readiness.wait_ready", not_ready)
    with pytest.raises(StackError, match="not ready"):
        sp.up(keep_volumes=True)
    assert [c[0] for c in script.calls] == ["up"]
