"""Stack files: the reference one is valid, every mistake is reported at file:line:col, and the
definition knows its Compose files in `-f` order."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drills.core.errors import ScenarioError
from drills.files.stack_file import (
    check_stack_file,
    default_stack_path,
    load_stack,
    looks_like_stack_file,
    stack_json_schema,
)
from drills.stack.definition import StackDefinition

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = """\
stack: mine
compose:
  files: [compose.yaml]
roles:
  postgres: [db1, db2]
components:
  postgres: {adapter: patroni}
"""


def write(tmp_path: Path, text: str, *, compose: bool = True) -> Path:
    if compose:
        (tmp_path / "compose.yaml").write_text("services: {}\n")
    path = tmp_path / "stack.yaml"
    path.write_text(text)
    return path


def test_the_reference_stack_file_is_valid_and_names_the_compose_file():
    definition, problems = check_stack_file(default_stack_path())
    assert problems == [] and definition is not None
    assert definition.compose_files() == ((ROOT / "docker-compose.ha.yml").resolve(),)
    assert definition.component_names() == ("postgres", "etcd", "rabbitmq", "mongo", "http")
    assert definition.declared_roles()["postgres"] == ["pg1", "pg2", "pg3"]
    assert definition.declared_roles()["http"] == ["lb"]


def test_a_minimal_stack_file_is_valid(tmp_path):
    definition, problems = check_stack_file(write(tmp_path, MINIMAL))
    assert problems == []
    assert definition is not None and definition.name == "mine"
    assert definition.spec.components.postgres is not None
    assert definition.spec.components.postgres.database == "app"  # the default, documented in the schema


@pytest.mark.parametrize(("text", "where", "message"), [
    (MINIMAL.replace("stack: mine", "stak: mine"), "1:1: stak", "unknown field 'stak'; did you mean 'stack'?"),
    (MINIMAL.replace("adapter: patroni", "adapter: stolon"), "7:23: components.postgres.adapter",
     "unknown adapter 'stolon' (one of patroni, repmgr)"),
    (MINIMAL.replace("[db1, db2]", "db1"), "5:13: roles.postgres", "must be a list"),
    (MINIMAL.replace("postgres: [db1", "Postgres: [db1"), "5:3: roles.Postgres", "must be a name"),
    (MINIMAL + "backups: [rabbitmq.definitions]\n", "8:11: backups[0]", "backup method rabbitmq.definitions needs "
                                                                       "the component rabbitmq"),
    # A credential naming a variable the file does not declare: at the `generated:` itself.
    (MINIMAL.replace("{adapter: patroni}", "\n    adapter: patroni\n    users:\n      app:\n        user: shop\n"
                                           "        password: {generated: SHOP_PASSWORD}"),
     "12:31: components.postgres.users.app.password.generated",
     "SHOP_PASSWORD is not one of the stack file's variables: add `variables: {SHOP_PASSWORD: {secret: 16}}`"),
    (MINIMAL + "variables:\n  DRILLS_SHOP: {secret: 16}\n", "9:3: variables.DRILLS_SHOP",
     "names starting DRILLS_ are Drills' own"),
    (MINIMAL.replace("{adapter: patroni}", "\n    adapter: patroni\n    users:\n      app:\n        user: shop\n"
                                           "        password: {generated: DRILLS_SHOP}"),
     "12:31: components.postgres.users.app.password.generated", "DRILLS_SHOP is not a variable Drills generates"),
    # Drills' own variables: each of the kind Drills generates it as; a file that declares some gets
    # only those, so a credential naming another is told to declare it
    (MINIMAL + "variables:\n  DRILLS_SUBNET: secret\n", "9:18: variables.DRILLS_SUBNET",
     "DRILLS_SUBNET is Drills' subnet, not a secret: write `DRILLS_SUBNET: subnet`"),
    (MINIMAL + "variables:\n  DRILLS_RABBITMQ_COOKIE: subnet\n", "9:27: variables.DRILLS_RABBITMQ_COOKIE",
     "write `DRILLS_RABBITMQ_COOKIE: {secret: 20}`"),
    (MINIMAL.replace("{adapter: patroni}", "\n    adapter: patroni\n    users:\n      app:\n        user: shop\n"
                                           "        password: {generated: DRILLS_APP_PASSWORD}")
     + "variables:\n  DRILLS_SUBNET: subnet\n",
     "12:31: components.postgres.users.app.password.generated",
     "DRILLS_APP_PASSWORD is not one of the stack file's variables: add `variables: {DRILLS_APP_PASSWORD: secret}`"),
    (MINIMAL + "variables:\n  SHOP_PASSWORD: sekret\n", "9:18: variables.SHOP_PASSWORD.kind",
     "must be one of 'secret', 'subnet' or 'net_prefix' (got 'sekret')"),
    (MINIMAL.replace("compose.yaml", "nope.yaml"), "3:11: compose.files[0]", "no such Compose file"),
    (MINIMAL.replace("  files: [compose.yaml]\n", "  pull: never\n"), "2:1: compose.files",
     "required field is missing"),
    (MINIMAL + "  rabbitmq: {adapter: rabbitmq, queues: [a], signal_queue: b}\n", "8:3: components.rabbitmq",
     "signal_queue 'b' is not one of the stack's queues"),
    # components.http is told by its adapter: each balancer's fields are its own
    (MINIMAL + "  http: {adapter: ngnix, balancer: lb, instances: web}\n", "8:19: components.http.adapter",
     "unknown adapter 'ngnix'; did you mean 'nginx'?"),
    (MINIMAL + "  http: {adapter: traefik, balancer: lb}\n", "8:19: components.http.adapter",
     "unknown adapter 'traefik' (one of haproxy, nginx)"),
    (MINIMAL + "  http:\n    balancer: lb\n", "8:3: components.http.adapter",
     "required field is missing (one of haproxy, nginx)"),
    (MINIMAL + "  http:\n    adapter: nginx\n    backend: web\n", "10:5: components.http.backend",
     "unknown field 'backend' for this adapter; it belongs to adapter: haproxy"),
    (MINIMAL + "  http: {adapter: haproxy, balancer: lb, backend: b, instances: web, upstream: u}\n",
     "8:70: components.http.upstream", "it belongs to adapter: nginx"),
    (MINIMAL + "  http: {adapter: nginx, upstrem: u}\n", "8:26: components.http.upstrem",
     "unknown field 'upstrem'; did you mean 'upstream'?"),
    (MINIMAL + "  http: {adapter: nginx, port: 0}\n", "8:32: components.http.port", "greater than or equal to 1"),
])
def test_every_mistake_is_located(tmp_path, text, where, message):
    path = write(tmp_path, text)
    definition, problems = check_stack_file(path)
    assert definition is None
    shown = [str(p) for p in problems]
    assert any(s.startswith(f"{path}:{where}") and message in s for s in shown), shown


PRINTABLE = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=20)


@given(st.one_of(st.tuples(PRINTABLE, PRINTABLE).map("\0".join), st.integers(256, 1000).map("c".__mul__)))
@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_compose_file_name_the_os_refuses_is_a_located_problem(tmp_path, name):
    # issue 19: a NUL byte made pathlib raise ValueError out of `drill validate`, and a name past
    # the system's 255 bytes makes is_file() raise OSError.
    path = write(tmp_path, MINIMAL.replace("[compose.yaml]", f"[compose.yaml, {json.dumps(name)}]"))
    definition, problems = check_stack_file(path)
    assert definition is None
    assert [(p.line, p.column, p.field) for p in problems] == [(3, 25, "compose.files[1]")]
    assert ("NUL byte" if "\0" in name else "File name too long") in problems[0].message


def test_yaml_errors_are_located_too(tmp_path):
    path = write(tmp_path, MINIMAL.replace("roles:", "roles: [", 1))
    _, problems = check_stack_file(path)
    assert problems and problems[0].line >= 4


def test_load_stack_takes_a_folder_and_layers_overrides_after_the_stack_files(tmp_path):
    write(tmp_path, MINIMAL)
    override = tmp_path / "o.yaml"
    override.write_text("services: {}\n")
    definition = load_stack(tmp_path, [override])
    assert definition.compose_files() == ((tmp_path / "compose.yaml").resolve(), override.resolve())
    assert StackDefinition.from_json(json.loads(json.dumps(definition.to_json()))) == definition


def test_load_stack_refuses_what_is_not_there(tmp_path):
    with pytest.raises(ScenarioError, match="no stack file"):
        load_stack(tmp_path)
    write(tmp_path, MINIMAL)
    with pytest.raises(ScenarioError, match="no such Compose override file"):
        load_stack(tmp_path, [tmp_path / "missing.yaml"])
    write(tmp_path, MINIMAL.replace("patroni", "stolon"))
    with pytest.raises(ScenarioError, match=r"stack.yaml:7:23") as err:
        load_stack(tmp_path)
    assert err.value.exit_code == 2


def test_stack_files_are_told_from_scenarios(tmp_path):
    assert looks_like_stack_file(default_stack_path())
    assert not looks_like_stack_file(ROOT / "scenarios" / "postgres-leader-kill.yaml")
    other = tmp_path / "mine.yml"
    other.write_text(MINIMAL)
    assert looks_like_stack_file(other)
    # issue 19: keys quoted or in flow style (JSON) are keys too
    other.write_text(json.dumps({"stack": "mine", "compose": {"files": ["compose.yaml"]}}))
    assert looks_like_stack_file(other)
    other.write_text(MINIMAL.replace("stack:", "'stack':").replace("compose:", '"compose" :'))
    assert looks_like_stack_file(other)


def test_the_schema_describes_every_field():
    schema = stack_json_schema()
    assert schema["title"] == "Drills stack file"
    assert {"stack", "compose", "roles", "components", "backups"} <= set(schema["properties"])


def test_the_schema_offers_each_balancer_by_its_adapter():
    schema = stack_json_schema()
    [tagged, none] = schema["$defs"]["Components"]["properties"]["http"]["anyOf"]
    assert none == {"type": "null"}
    assert tagged["discriminator"] == {"propertyName": "adapter", "mapping": {
        "haproxy": "#/$defs/HttpSpec", "nginx": "#/$defs/NginxSpec"}}
    assert {"balancer", "port", "upstream", "instances"} <= set(schema["$defs"]["NginxSpec"]["properties"])


@pytest.mark.parametrize("adapter", ["haproxy", "nginx"])
def test_either_balancer_is_an_http_component_its_signals_and_status_can_use(tmp_path, adapter):
    from drills.components._stack_specs import HttpSpec
    from drills.components.base import BalancerSpec

    entry = {"haproxy": "backend: web", "nginx": "upstream: web"}[adapter]
    text = MINIMAL + f"  http: {{adapter: {adapter}, balancer: front, port: 9000, {entry}, instances: web}}\n"
    definition, problems = check_stack_file(write(tmp_path, text))
    assert problems == [] and definition is not None
    http = definition.spec.components.http
    assert isinstance(http, HttpSpec if adapter == "haproxy" else BalancerSpec)
    assert (http.adapter, http.balancer, http.port, http.instances) == (adapter, "front", 9000, "web")
    assert definition.declared_roles()["http"] == ["front"]
    assert StackDefinition.from_json(json.loads(json.dumps(definition.to_json()))) == definition


@pytest.mark.parametrize("path", sorted((ROOT / "stacks").rglob("stack.yaml")), ids=lambda p: p.parent.name)
def test_every_stack_file_of_the_repository_is_valid(path):
    definition, problems = check_stack_file(path)
    assert problems == [] and definition is not None, problems


@given(st.lists(st.from_regex(r"[a-z][a-z0-9]{0,6}\.ya?ml", fullmatch=True), min_size=1, max_size=4, unique=True))
def test_compose_files_keep_their_order(names):
    from drills.stack.definition import StackFile

    spec = StackFile.model_validate({"stack": "s", "compose": {"files": names}})
    definition = StackDefinition(Path("/stacks/s/stack.yaml"), spec, (Path("/o.yaml"),))
    assert [p.name for p in definition.compose_files()] == [*names, "o.yaml"]


def test_drill_validate_and_schema_take_stack_files(tmp_path):
    ok = subprocess.run([sys.executable, "-m", "drills", "validate", str(ROOT / "stacks" / "reference")],
                        capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0 and "1 stack file(s) valid" in ok.stdout
    bad = write(tmp_path, MINIMAL.replace("adapter: patroni", "adapter: stolon"))
    done = subprocess.run([sys.executable, "-m", "drills", "validate", str(bad)], capture_output=True, text=True)
    assert done.returncode == 2 and f"{bad}:7:23: components.postgres.adapter" in done.stderr
    schema = subprocess.run([sys.executable, "-m", "drills", "schema", "--stack"], capture_output=True, text=True)
    assert schema.returncode == 0 and json.loads(schema.stdout)["title"] == "Drills stack file"


def test_a_scenario_that_names_its_stack_is_told_where_the_stack_is_chosen(tmp_path):
    from drills.files.scenario import check_file

    text = (ROOT / "scenarios" / "postgres-leader-kill.yaml").read_text()
    path = tmp_path / "s.yaml"
    path.write_text("stack:\n  profiles: [mongo]\n" + text)
    scenario, problems = check_file(path)
    assert scenario is None
    [problem] = problems
    assert (problem.line, problem.field) == (1, "stack") and "drill run --stack" in problem.message


def test_an_entry_is_read_by_key_as_its_adapters_spec(tmp_path):
    """`component(key, model)`: the stack file's entry, else the key's defaults; `entry` None where
    the file names none; another adapter's entry is an error for a caller reading this one's."""
    from drills.components._stack_specs import EtcdSpec, PostgresBase, PostgresSpec, RabbitmqSpec
    from drills.core.errors import StackError

    definition, problems = check_stack_file(write(tmp_path, MINIMAL))
    assert problems == [] and definition is not None
    assert definition.component("postgres", PostgresSpec).database == "app"
    assert definition.entry("rabbitmq", RabbitmqSpec) is None
    assert definition.component("rabbitmq", RabbitmqSpec).amqp_port == 5672  # the defaults
    with pytest.raises(StackError, match=r"components\.postgres is adapter patroni"):
        definition.component("postgres", EtcdSpec)
    assert isinstance(definition.component("postgres", PostgresBase), PostgresSpec)
    assert definition.spec.components.present() == {"postgres": definition.spec.components.postgres}


def test_drill_validate_finds_a_secret_or_service_the_compose_files_do_not_define(tmp_path):
    (tmp_path / "compose.yaml").write_text("services:\n  db1: {image: x}\n  db2: {image: x}\n"
                                           "secrets:\n  dba_password: {environment: DBA_PASSWORD}\n")
    users = ("  postgres:\n    adapter: patroni\n    users:\n"
             "      superuser: {user: dba, password: {secret: dba_pasword}}\n"
             "      app: {user: app, password: {container_env: {service: db3, variable: APP_PASSWORD}}}\n")
    path = tmp_path / "stack.yaml"
    path.write_text(MINIMAL.replace("  postgres: {adapter: patroni}\n", users))
    done = subprocess.run([sys.executable, "-m", "drills", "validate", str(path)], capture_output=True, text=True)
    assert done.returncode == 2, done.stdout + done.stderr
    assert (f"{path}:10:49: components.postgres.users.superuser.password.secret: the stack's Compose files define "
            "no secret dba_pasword (top-level secrets: dba_password)") in done.stderr, done.stderr
    assert "components.postgres.users.app.password.container_env.service: the stack's Compose files define no " \
           "service db3 (services: db1, db2)" in done.stderr, done.stderr
    fixed = path.read_text().replace("dba_pasword", "dba_password").replace("service: db3", "service: db2")
    path.write_text(fixed)
    assert check_stack_file(path)[1] == []
