"""Drills' generated Compose override (the host ports it needs that a stack's files do not publish),
the network a stack's components share, its live gateway, the stack's own images built first, and
the override's file: last `-f`, owner-only, gone with the project's records.

Compose itself resolves the models (`docker compose config`, no engine asked); nothing starts."""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import subprocess
from pathlib import Path
from typing import Any

import docker.errors
import pytest
from hypothesis import given
from hypothesis import strategies as st

from drills.components._host_ports import REACHED
from drills.core import local_state
from drills.core.errors import ScenarioError, StackError
from drills.files.stack_file import load_stack
from drills.stack import build, network, override, ports, state
from drills.stack.definition import Components, RoleMap, StackDefinition, StackFile
from drills.stack.env import Secrets, StackSettings, settings_from_json, settings_to_json
from drills.stack.project import ComposeProject, default_definition
from drills.workload.endpoints import published
from tests.unit.test_doctor_stack import Images

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "drills-ov1234"


@pytest.fixture(autouse=True)
def isolated_state(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


# ---- a stack written without Drills in mind: no published port, no DRILLS_ variable ----------------

COMPOSE = """\
services:
  db-1: &db {image: orders/patroni:test, expose: ["5432", "8008"]}
  db-2: *db
  db-3: *db
  dcs-1: &dcs {image: orders/etcd:test}
  dcs-2: *dcs
  dcs-3: *dcs
  pgproxy: {image: orders/haproxy:test}
  api: {image: orders/api:test, networks: [front, default]}
networks:
  front: {}
"""

STACK = """\
stack: orders-db
compose: {files: [compose.yaml], pull: never}
roles:
  postgres: [db-1, db-2, db-3]
  etcd: [dcs-1, dcs-2, dcs-3]
  db-proxy: [pgproxy]
  clients: [api]
components:
  postgres:
    adapter: patroni
    database: orders
    access: {through: db-proxy, port: 5000}
  etcd: {adapter: etcd}
"""


def write_stack(folder: Path, compose: str = COMPOSE, stack: str = STACK) -> StackDefinition:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "compose.yaml").write_text(compose)
    (folder / "stack.yaml").write_text(stack)
    return load_stack(folder / "stack.yaml")


def project_of(definition: StackDefinition, **changes: Any) -> ComposeProject:
    settings = StackSettings(project=PROJECT, subnet=ipaddress.IPv4Network("172.30.9.0/24"), images={},
                             secrets=Secrets.generate(), definition=definition)
    return ComposeProject(dataclasses.replace(settings, **changes), client=object())


def model_and_roles(definition: StackDefinition, **changes: Any) -> tuple[dict[str, Any], RoleMap]:
    stack = project_of(definition, **changes)
    model = stack.config()
    return model, stack.read_roles(model)


@pytest.fixture
def orders(tmp_path) -> StackDefinition:
    return write_stack(tmp_path / "orders")


def test_a_stack_that_publishes_nothing_gets_each_port_drills_reaches_once(orders):
    model, roles = model_and_roles(orders)
    made = override.generate(orders, roles, model)
    assert made.publish == {"db-1": (5432, 8008), "db-2": (5432, 8008), "db-3": (5432, 8008),
                            "dcs-1": (2379,), "dcs-2": (2379,), "dcs-3": (2379,), "pgproxy": (5000,)}
    text = made.text(PROJECT)
    assert '- "127.0.0.1:${DRILLS_PORT_DB_1_5432:-}:5432"' in text and '"pgproxy":' in text
    assert ports.port_variables(text) == made.variables(), "ports.assign picks a port for each of them"
    assert "api" not in made.publish, "a client is no member of a component"


def test_compose_merges_the_override_and_published_finds_every_port(orders):
    model, roles = model_and_roles(orders)
    text = override.generate(orders, roles, model).text(PROJECT)
    picked = ports.assign(text)
    stack = project_of(orders, override=text, ports=picked)
    merged = stack.config()["services"]
    for service, port in (("db-2", 8008), ("dcs-3", 2379), ("pgproxy", 5000)):
        [entry] = [p for p in merged[service]["ports"] if p["target"] == port]
        host = picked[ports.variable(service, port)]
        assert (entry["host_ip"], int(entry["published"])) == ("127.0.0.1", host)
        assert published(stack, service, port, snap={}) == ("127.0.0.1", host)
    assert "ports" not in merged["api"]


def test_the_override_is_the_last_file_owner_only_and_written_again_when_pruned(orders, monkeypatch):
    monkeypatch.setattr("drills.stack.project.compose_command", lambda: ["docker", "compose"])
    assert project_of(orders).files == orders.compose_files(), "nothing to add: no file, no -f"
    stack = project_of(orders, override="services: {}\n")
    path = local_state.override_file(PROJECT)
    argv = stack.argv("up", "-d")
    assert argv[argv.index("up") - 2:argv.index("up")] == ["-f", str(path)]
    assert path.read_text() == "services: {}\n" and path.stat().st_mode & 0o777 == 0o600
    path.unlink()  # `drill clean` pruned a project with no container yet: the next command writes it again
    assert stack.files[-1] == path and path.is_file()


def test_the_reference_stack_gets_only_its_etcd_client_ports(monkeypatch):
    """Everything else Drills reaches, the reference Compose file publishes itself; etcd's client
    port it does not (Drills reached etcd from inside its containers before)."""
    definition = default_definition()
    profiles = tuple(p.profile for p in definition.spec.optional_profiles)
    stack = project_of(definition)
    model = stack.config(profiles=profiles)
    made = override.generate(definition, stack.read_roles(model), model)
    assert made.publish == {"etcd1": (2379,), "etcd2": (2379,), "etcd3": (2379,)}
    assert network.network_name(model, network.network_key(definition, stack.read_roles(model), model),
                                PROJECT) == f"{PROJECT}_stack"


def test_the_postgres_only_example_gets_its_etcd_client_ports_and_names_its_network():
    definition = load_stack(ROOT / "stacks" / "examples" / "postgres-only")
    model, roles = model_and_roles(definition)
    assert override.generate(definition, roles, model).publish == {f"etcd{i}": (2379,) for i in (1, 2, 3)}
    assert network.network_key(definition, roles, model) == "db"


def test_every_port_a_component_reaches_is_a_port_field_of_its_spec():
    def specs(annotation: Any) -> list[type]:
        # Optional[...], a union of adapters' specs, Annotated[Union[...], discriminator]: every class in it.
        if isinstance(annotation, type):
            return [annotation]
        return [cls for arg in getattr(annotation, "__args__", ()) for cls in specs(arg)]

    for key, names in REACHED.items():
        classes = [cls for cls in specs(Components.model_fields[key].annotation) if hasattr(cls, "model_fields")]
        assert classes, key
        for cls in classes:  # every adapter of the component has some port the override publishes
            # (repmgr has no REST port: `reached_ports` skips a field its spec lacks)
            assert set(names) & set(cls.model_fields), (key, cls.__name__)


# ---- the override as a function of what the stack's files publish ---------------------------------

NAMES = st.from_regex(r"[a-z][a-z0-9]{0,5}([-.][a-z0-9]{1,3})?", fullmatch=True)
TCP = ("dict", "short", "long")  # how a stack's files may publish a port (the model, or a file as written)


def entry(port: int, form: str) -> Any:
    return {"dict": {"target": port, "published": "40000", "protocol": "tcp"}, "short": f"{port}",
            "long": f"127.0.0.1:${{X:-}}:{port}", "udp": f"0.0.0.0:9{port % 1000}:{port}/udp",
            "dict-udp": {"target": port, "protocol": "udp"}}[form]


@given(st.lists(NAMES, min_size=1, max_size=6, unique_by=lambda s: re.sub("[^a-z0-9]", "_", s)), st.data())
def test_the_override_publishes_exactly_what_the_files_do_not(services, data):
    needed = (5432, 8008)
    forms = {s: data.draw(st.dictionaries(st.sampled_from(needed), st.sampled_from([*TCP, "udp", "dict-udp"])))
             for s in services}
    model = {"services": {s: {"ports": [entry(p, form) for p, form in forms[s].items()]} for s in services}}
    definition = StackDefinition(Path("/x/stack.yaml"), StackFile.model_validate(
        {"stack": "t", "compose": {"files": ["c.yaml"]}, "components": {"postgres": {"adapter": "patroni"}}}))
    made = override.generate(definition, RoleMap({"postgres": tuple(services)}), model)
    for s in services:
        assert made.publish.get(s, ()) == tuple(p for p in needed if forms[s].get(p) not in TCP)
    for name in made.variables():
        assert re.fullmatch(r"DRILLS_PORT_[A-Z0-9_]+_\d+", name), name
    assert len(made.variables()) == len(set(made.variables())), "two services never share a variable here"


def test_a_service_sharing_another_namespace_is_not_given_ports():
    definition = StackDefinition(Path("/x/stack.yaml"), StackFile.model_validate(
        {"stack": "t", "compose": {"files": ["c.yaml"]}, "components": {"etcd": {"adapter": "etcd"}}}))
    model = {"services": {"e1": {}, "e2": {"network_mode": "service:e1"}}}
    assert override.generate(definition, RoleMap({"etcd": ("e1", "e2")}), model).publish == {"e1": (2379,)}


# ---- the network ----------------------------------------------------------------------------------

def definition_with(network_key: str | None = None) -> StackDefinition:
    compose: dict[str, Any] = {"files": ["c.yaml"]} | ({"network": network_key} if network_key else {})
    return StackDefinition(Path("/x/stack.yaml"), StackFile.model_validate(
        {"stack": "t", "compose": compose, "components": {"postgres": {"adapter": "patroni"},
                                                          "etcd": {"adapter": "etcd"}}}))


ROLES = RoleMap({"postgres": ("db-1", "db-2"), "etcd": ("dcs-1",)})


def model_on(**nets: list[str]) -> dict[str, Any]:
    keys = {n for ns in nets.values() for n in ns}
    return {"networks": {k: {"name": f"orders_{k}"} for k in keys},
            "services": {s.replace("_", "-"): {"networks": {n: None for n in ns}} for s, ns in nets.items()}}


def test_the_one_network_the_components_share_is_the_stacks():
    model = model_on(db_1=["back", "front"], db_2=["back"], dcs_1=["back", "admin"], api=["front"])
    assert network.network_key(definition_with(), ROLES, model) == "back"
    assert network.network_name(model, "back", PROJECT) == "orders_back", "as Compose resolves it"
    assert network.network_name({}, "default", PROJECT) == f"{PROJECT}_default"


def test_several_shared_networks_ask_the_stack_file_to_say_which():
    model = model_on(db_1=["back", "front"], db_2=["back", "front"], dcs_1=["front", "back"])
    with pytest.raises(ScenarioError, match=r"stack t \(/x/stack.yaml\): compose.network: .* several networks "
                                            r"\(back, front\)") as err:
        network.network_key(definition_with(), ROLES, model)
    assert err.value.hint == "say compose.network: <one of back, front>"
    assert network.network_key(definition_with("front"), ROLES, model) == "front"


def test_no_shared_network_says_where_each_service_is():
    model = model_on(db_1=["back"], db_2=["back"], dcs_1=["dcs"])
    with pytest.raises(ScenarioError, match=r"share no network \(db-1: back; db-2: back; dcs-1: dcs\)") as err:
        network.network_key(definition_with(), ROLES, model)
    assert "compose.network" in (err.value.hint or "")


def test_a_named_network_the_files_lack_is_refused_with_those_they_have():
    with pytest.raises(ScenarioError, match=r"compose.network: stack is not a network of its Compose files "
                                            r"\(back, dcs\)"):
        network.network_key(definition_with("stack"), ROLES, model_on(db_1=["back"], dcs_1=["dcs"]))


def test_a_service_without_networks_is_on_compose_default():
    assert network.networks_of({}) == {"default"}
    assert network.networks_of({"network_mode": "host"}) == frozenset()


class Networks:
    def __init__(self, attrs: dict[str, Any] | None) -> None:
        self.attrs = attrs

    def get(self, name: str) -> Any:
        if self.attrs is None:
            raise docker.errors.NotFound(name)
        return type("Network", (), {"attrs": self.attrs})()


def test_the_gateway_and_subnet_are_the_engines_else_the_settings(orders):
    engine = type("Engine", (), {"networks": Networks({"IPAM": {"Config": [
        {"Subnet": "fd00::/64"}, {"Subnet": "192.168.208.0/20", "Gateway": "192.168.208.1"}]}})})()
    stack = ComposeProject(project_of(orders).settings, client=engine)  # type: ignore[arg-type]
    assert (stack.gateway_ip(), stack.network_subnet()) == ("192.168.208.1", "192.168.208.0/20")
    engine.networks = Networks({"IPAM": {"Config": [{"Subnet": "10.5.0.0/16"}]}})
    assert stack.gateway_ip() == "10.5.0.1", "no gateway named: the subnet's first address"
    engine.networks = Networks(None)
    assert (stack.gateway_ip(), stack.network_subnet()) == ("172.30.9.1", "172.30.9.0/24")


# ---- create: all of it from the model -------------------------------------------------------------

@pytest.fixture
def engine(monkeypatch):
    monkeypatch.setattr("drills.stack.subnets.choose", lambda client, also=(): ipaddress.IPv4Network("172.31.9.0/24"))
    return type("Engine", (), {"images": Images({"orders/etcd:test"})})()


def test_create_reads_network_roles_and_override_and_saves_them(orders, engine):
    stack = ComposeProject.create(client=engine, images={}, definition=orders, project=PROJECT)
    settings = stack.settings
    assert stack.network_name == f"{PROJECT}_default"
    assert set(override.generate(orders, settings.roles, stack.config()).variables()) <= set(settings.ports)
    assert settings.override and set(ports.port_variables(settings.override)) == set(settings.ports)
    assert settings_from_json(settings_to_json(settings)) == settings, "attach finds network and override"
    assert stack.files[-1] == local_state.override_file(PROJECT)


def test_the_stacks_own_images_are_built_before_the_boot(tmp_path, engine, monkeypatch):
    built = write_stack(tmp_path / "built", COMPOSE.replace("image: orders/patroni:test", "build: ./db, image: orders/"
                                                            "patroni:test").replace(
        "pgproxy: {image: orders/haproxy:test}", "pgproxy: {build: ./proxy}"))
    (tmp_path / "built" / "db").mkdir()
    (tmp_path / "built" / "proxy").mkdir()
    calls: list[tuple[str, ...]] = []

    def compose(self: ComposeProject, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(args)
        if args[0] == "build":
            failed = "step 1/3\n#5 ERROR: E: Unable to locate package patroni"
            return subprocess.CompletedProcess(list(args), 1, "", failed)
        return real(self, *args, **kwargs)

    real = ComposeProject.run_compose
    monkeypatch.setattr(ComposeProject, "run_compose", compose)
    with pytest.raises(StackError, match="docker compose build failed for the stack orders-db "
                                         r"\(db-1, pgproxy\):\n(?s:.*)Unable to locate package patroni"):
        ComposeProject.create(client=engine, definition=built, project=PROJECT)
    assert calls[-1] == ("build", "db-1", "pgproxy"), "once per image; after the model, before any `up`"
    assert not any(c[0] == "up" for c in calls)
    assert state.overridden() == [], "a stack that never started leaves no override behind"


def test_only_absent_images_of_running_profiles_are_built():
    model = {"services": {"a": {"build": "./a", "image": "x/a:1"}, "b": {"build": {"context": "."}},
                          "c": {"image": "x/c:1"}, "d": {"build": ".", "profiles": ["extra"]}}}
    assert build.to_build(model, PROJECT, (), lambda image: False) == {"a": "x/a:1", "b": f"{PROJECT}-b"}
    assert build.to_build(model, PROJECT, ("extra",), lambda image: image == "x/a:1") == {
        "b": f"{PROJECT}-b", "d": f"{PROJECT}-d"}


# ---- the override goes with the project's records --------------------------------------------------

def test_forgetting_a_project_removes_its_override_and_nothing_of_another():
    for project in ("drills-a", "drills-b"):
        state.write_override(project, "services: {}\n")
    local_state.forget("drills-a")
    assert not local_state.override_file("drills-a").exists() and local_state.override_file("drills-b").exists()
    state.forget("drills-b")
    assert state.overridden() == []


def test_drill_clean_prunes_the_override_of_a_project_never_started(monkeypatch):
    from drills.run.cleanup import clean

    state.write_override("drills-never", "services: {}\n")
    monkeypatch.setattr("drills.run.cleanup.existing_projects", lambda client: set())
    report = clean(object(), only="drills-never")  # type: ignore[arg-type]
    assert report.pruned == ["drills-never: no container, network or volume of it is left"]
    assert state.overridden() == []
