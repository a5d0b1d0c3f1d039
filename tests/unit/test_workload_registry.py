"""The signal registry: every kind has a model, builds its clients, records the ops it declares and
offers the final read it declares; the scenario schema knows exactly the registered signals.

The clients run for real against ports of this machine where nothing listens: each op fails at
once (refused), which is enough to see what a signal records, without a stack."""

from __future__ import annotations

import ipaddress
import socket
import time
from typing import Any

import pytest

from drills.checkers.lost_writes import LostWrites
from drills.core.history import Op
from drills.files.scenario import SIGNALS as SCENARIO_SIGNALS
from drills.files.scenario import Scenario
from drills.stack.definition import StackDefinition
from drills.workload.registry import KINDS, SIGNALS, WRITE_SIGNALS
from drills.workload.signal import Driven, SignalContext, SignalKind, SignalSpec
from tests.integration.recording import Ops

SERVICES = {"pg1": 5432, "pg2": 5432, "pg3": 5432, "rabbit1": 5672, "rabbit2": 5672, "rabbit3": 5672,
            "mongo1": 27017, "mongo2": 27017, "mongo3": 27017, "lb": 8080, "smtp-sink": 8025}


def closed_port() -> int:
    """A port of 127.0.0.1 where nothing listens (it was free a moment ago)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class NowhereStack:
    """Every service of the reference stack, each published on a port where nothing listens."""

    def __init__(self, definition: StackDefinition | None = None) -> None:
        from drills.stack.env import Secrets, StackSettings
        from drills.stack.services import ServiceInfo
        from tests.stand_ins import reference_definition, reference_roles

        self.settings = StackSettings("drills-test", ipaddress.IPv4Network("172.30.9.0/24"), {}, Secrets.generate(),
                                      roles=reference_roles())
        self.definition = definition or reference_definition()
        port = closed_port()
        self._snap = {name: ServiceInfo(name, "id-" + name, f"drills-test-{name}-1", "running", "Up", "healthy", None,
                                        {container_port: port})
                      for name, container_port in SERVICES.items()}

    def snapshot(self) -> dict[str, Any]:
        return self._snap

    def credential(self, ref: Any) -> str:
        from tests.stand_ins import offline_credential

        return offline_credential(self, ref)


def test_the_schema_knows_exactly_the_registered_signals():
    assert SCENARIO_SIGNALS == SIGNALS == tuple(KINDS)
    assert set(WRITE_SIGNALS) == {name for name, kind in KINDS.items() if kind.final_read is not None}
    assert {"postgres.write", "mongo.write"} <= set(WRITE_SIGNALS)
    assert "rabbitmq.publish" not in WRITE_SIGNALS  # the queue checker judges it, after the drain
    with pytest.raises(ValueError, match="Input should be"):
        LostWrites.model_validate({"checker": "lost-writes", "signal": "http.dashboard", "why": "w"})


@pytest.mark.parametrize("name", SIGNALS)
def test_each_kind_is_complete(name):
    kind = KINDS[name]
    assert isinstance(kind, SignalKind)
    assert kind.name == name
    module = kind.build.__module__
    assert module == f"drills.workload.signals.{name.replace('.', '_')}", "a kind lives in the module named after it"
    assert issubclass(kind.model, SignalSpec)
    assert kind.model() == kind.model.model_validate({}), "every field has a default: `{signal}: {}` is valid"
    assert kind.records and kind.records[0].signal == name
    assert kind.final_read is None or kind.final_read.strip()
    assert kind.description.strip()
    assert all(other in KINDS and other != name for other in kind.requires)


@pytest.mark.parametrize("name", SIGNALS)
def test_each_kind_builds_clients_that_record_what_it_declares(name):
    kind = KINDS[name]
    ops = Ops()
    seen: list[Op] = []
    context = SignalContext(NowhereStack(), ops, time.monotonic, run="test")
    driven = kind.drive(kind.model(), context)
    assert isinstance(driven, Driven)
    assert driven.runner.signal == name
    assert (driven.final_read is not None) == (kind.final_read is not None)
    declared = {(r.signal, r.kind) for r in kind.records}
    try:
        if driven.before_start is not None:
            driven.before_start()
        driven.runner.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            seen = [o for r in kind.records for o in ops.of(r.signal)]
            if declared <= {(o.signal, o.kind) for o in seen}:
                break
            time.sleep(0.05)
    finally:
        driven.runner.stop()
        if driven.close is not None:
            driven.close()
    seen = [o for r in kind.records for o in ops.of(r.signal)]
    assert {(o.signal, o.kind) for o in seen} == declared, [o.error for o in seen][:3]
    assert not any(o.ok for o in seen), "nothing listens: no op can have succeeded"


def test_a_workload_entry_is_read_by_its_own_kind_s_model():
    def scenario(workload: dict[str, Any]) -> Scenario:
        return Scenario.model_validate({
            "id": "t", "title": "t", "policy": "p", "workload": workload,
            "steps": [{"fault": "kill", "target": "postgres.leader"}],
            "expectations": [{"checker": "steady-state", "why": "w"}]})

    s = scenario({"mongo.write": {"write_concern": 1}, "postgres.write": {"rate": 10}})
    assert type(s.workload["mongo.write"]) is KINDS["mongo.write"].model
    assert s.model_dump(mode="json")["workload"]["mongo.write"]["write_concern"] == "1"  # not dropped in the journal
    with pytest.raises(ValueError) as caught:
        scenario({"postgres.write": {"write_concern": "1"}, "mongo.write": {"rate": -1}, "nope": {}})
    locs = {tuple(e["loc"]) for e in caught.value.errors()}  # type: ignore[attr-defined]
    # Every entry's problems at once, each where it is.
    assert locs == {("workload", "postgres.write", "write_concern"), ("workload", "mongo.write", "rate"),
                    ("workload", "nope", "[key]")}



def test_a_misspelt_field_of_an_entry_is_matched_against_its_own_kind_s_fields(tmp_path):
    from drills.files.scenario import check_file

    path = tmp_path / "s.yaml"
    path.write_text("id: t\ntitle: t\npolicy: p\nworkload:\n  mongo.write: {write_concren: majority}\n"
                    "steps:\n  - {fault: kill, target: mongo.primary}\n"
                    "expectations:\n  - {checker: steady-state, why: w}\n")
    _, problems = check_file(path)
    assert [str(p).removeprefix(str(path)) for p in problems] == [
        ":5:17: workload.mongo.write.write_concren: unknown field 'write_concren'; did you mean 'write_concern'?"]
