"""A stack file's credentials resolved from each source (generated, env, file, Compose secret,
container environment); every failure names the stack file's field and what to add; values are
kept per project and reach the kept logs' redactor."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drills.components._postgres_spec import PostgresBase
from drills.components.base import Credential
from drills.core.errors import StackError
from drills.stack.credentials import Credentials, describe, first_line, located
from drills.stack.definition import GeneratedVariable, StackDefinition, StackFile
from drills.stack.env import Generated, Secrets, StackSettings

SUPERUSER = "components.postgres.users.superuser.password"


def definition(tmp_path: Path, users: dict[str, Any], variables: dict[str, Any] | None = None) -> StackDefinition:
    spec = StackFile.model_validate({
        "stack": "orders", "compose": {"files": ["compose.yaml"]}, "roles": {"postgres": ["db-1"]},
        "variables": variables or {}, "components": {"postgres": {"adapter": "patroni", "users": users}}})
    return StackDefinition(tmp_path / "stack.yaml", spec)


class Stack:
    """What resolving reads of a project: its stack file and settings, a Compose model, and the
    environment of the containers there are."""

    def __init__(self, definition: StackDefinition, *, model: dict[str, Any] | None = None,
                 envs: dict[str, list[str]] | None = None, generated: dict[str, str] | None = None) -> None:
        self.definition = definition
        self.settings = StackSettings("drills-t1", ipaddress.IPv4Network("172.30.9.0/24"), {}, Secrets.generate(),
                                      definition=definition, generated=Generated(generated or {}))
        self.model = model or {}
        self.envs = envs or {}
        self.configs = 0

    def config(self) -> dict[str, Any]:
        self.configs += 1
        return self.model

    def service_env(self, service: str) -> list[str] | None:
        return self.envs.get(service)


def login(**password: Any) -> dict[str, Any]:
    return {"user": "dba", "password": password}


def resolve(stack: Stack, environ: dict[str, str] | None = None) -> str:
    ref = stack.definition.component("postgres", PostgresBase).login("superuser").password
    return Credentials(stack, environ or {}).resolve(ref)


# ---- each source ------------------------------------------------------------------------------------


def test_generated_reads_the_run_s_variable_or_drills_own(tmp_path):
    stack = Stack(definition(tmp_path, {"superuser": login(generated="ORDERS_PG")}, {"ORDERS_PG": {}}),
                  generated={"ORDERS_PG": "s3cret-orders"})
    assert resolve(stack) == "s3cret-orders"
    reference = Stack(definition(tmp_path, {}))  # no users: the reference convention, DRILLS_PG_SUPERUSER_PASSWORD
    assert resolve(reference) == reference.settings.secrets.pg_superuser_password


def test_a_generated_variable_the_run_lacks_says_what_to_do(tmp_path):
    declared = Stack(definition(tmp_path, {"superuser": login(generated="ORDERS_PG")}, {"ORDERS_PG": {}}))
    with pytest.raises(StackError, match=rf"(?s){SUPERUSER}: \{{generated: ORDERS_PG\}}.*bring the stack up again"):
        resolve(declared)


def test_env_reads_drills_environment(tmp_path):
    stack = Stack(definition(tmp_path, {"superuser": login(env="ORDERS_DBA_PASSWORD")}))
    assert resolve(stack, {"ORDERS_DBA_PASSWORD": "from-env"}) == "from-env"
    with pytest.raises(StackError, match=rf"(?s){SUPERUSER}: \{{env: ORDERS_DBA_PASSWORD\}}.*not set.*export "
                                         r"ORDERS_DBA_PASSWORD"):
        resolve(stack, {"OTHER": "x"})


def test_file_is_the_first_line_of_a_file_beside_the_stack_file(tmp_path):
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "dba.txt").write_text(" pass word \r\nsecond line\n")
    stack = Stack(definition(tmp_path, {"superuser": login(file="secrets/dba.txt")}))
    assert resolve(stack) == " pass word "  # a password's spaces are its own; the line's end is not
    missing = Stack(definition(tmp_path, {"superuser": login(file="secrets/none.txt")}))
    with pytest.raises(StackError, match=rf"{SUPERUSER}: \{{file: secrets/none.txt\}}: cannot read .*none.txt"):
        resolve(missing)
    (tmp_path / "secrets" / "empty.txt").write_text("\nlater\n")
    empty = Stack(definition(tmp_path, {"superuser": login(file="secrets/empty.txt")}))
    with pytest.raises(StackError, match=r"first line of .*empty\.txt is empty"):
        resolve(empty)


@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=30), st.text(max_size=30))
def test_first_line_is_the_text_up_to_the_first_line_break(line: str, rest: str) -> None:
    head = line.splitlines()[0] if line.splitlines() else ""
    assert first_line(head + "\n" + rest) == head
    assert "\n" not in first_line(line) and "\r" not in first_line(line)


def test_secret_reads_the_compose_secret_s_file_or_its_variable(tmp_path):
    (tmp_path / "dba.txt").write_text("from-secret-file\n")
    model = {"secrets": {"pg_superuser_password": {"file": str(tmp_path / "dba.txt")},
                         "by_env": {"environment": "ORDERS_PG"}, "by_shell": {"environment": "SHELL_PW"},
                         "swarm": {"external": True}}}
    by_file = Stack(definition(tmp_path, {"superuser": login(secret="pg_superuser_password")}), model=model)
    assert resolve(by_file) == "from-secret-file"
    # environment: the variable as Compose sees it: the run's generated one first, then Drills' environment.
    by_env = Stack(definition(tmp_path, {"superuser": login(secret="by_env")}, {"ORDERS_PG": {}}), model=model,
                   generated={"ORDERS_PG": "generated-pg"})
    assert resolve(by_env, {"ORDERS_PG": "shell-pg"}) == "generated-pg"
    by_shell = Stack(definition(tmp_path, {"superuser": login(secret="by_shell")}), model=model)
    assert resolve(by_shell, {"SHELL_PW": "shell-pw"}) == "shell-pw"
    with pytest.raises(StackError, match=r"environment: variable SHELL_PW is not set"):
        resolve(by_shell, {})


def test_a_secret_compose_does_not_define_or_cannot_give_is_named(tmp_path):
    model = {"secrets": {"a": {"file": "/x"}, "swarm": {"external": True}}}
    unknown = Stack(definition(tmp_path, {"superuser": login(secret="nope")}), model=model)
    with pytest.raises(StackError, match=rf"{SUPERUSER}: \{{secret: nope\}}: .*define no secret nope.*a, swarm"):
        resolve(unknown)
    external = Stack(definition(tmp_path, {"superuser": login(secret="swarm")}), model=model)
    with pytest.raises(StackError, match=r"file: or environment: only \(this one is external\)"):
        resolve(external)


def test_container_env_reads_a_running_service_s_environment(tmp_path):
    ref = {"superuser": login(container_env={"service": "db-1", "variable": "PATRONI_SUPERUSER_PASSWORD"})}
    stack = Stack(definition(tmp_path, ref), envs={"db-1": ["PATH=/bin", "PATRONI_SUPERUSER_PASSWORD=a=b"]})
    assert resolve(stack) == "a=b"  # only the first '=' separates
    gone = Stack(definition(tmp_path, ref))
    with pytest.raises(StackError, match=rf"{SUPERUSER}: .*service db-1 has no container"):
        resolve(gone)
    without = Stack(definition(tmp_path, ref), envs={"db-1": ["PATH=/bin"]})
    with pytest.raises(StackError, match="db-1's environment has no PATRONI_SUPERUSER_PASSWORD"):
        resolve(without)


# ---- kept per project; what the logs redact -----------------------------------------------------


def test_a_value_is_read_once_and_a_failure_is_tried_again(tmp_path):
    (tmp_path / "dba.txt").write_text("pw-1\n")
    stack = Stack(definition(tmp_path, {"superuser": login(secret="s")}), model={"secrets": {"s": {"file": "dba.txt"}}})
    creds = Credentials(stack, {})
    ref = stack.definition.component("postgres", PostgresBase).login("superuser").password
    assert creds.resolve(ref) == creds.resolve(ref) == "pw-1"
    assert stack.configs == 1
    env_ref = Credential(container_env={"service": "db-2", "variable": "PW"})
    with pytest.raises(StackError):
        creds.resolve(env_ref)
    stack.envs["db-2"] = ["PW=now-up"]
    assert creds.resolve(env_ref) == "now-up"


def test_known_holds_every_credential_the_file_names_that_resolves(tmp_path):
    (tmp_path / "app.txt").write_text("app-pw\n")
    users = {"app": {"user": "orders_app", "password": {"file": "app.txt"}},
             "superuser": login(env="UNSET_HERE"),
             "replication": {"user": "repl", "password": {"generated": "ORDERS_REPL"}}}
    stack = Stack(definition(tmp_path, users, {"ORDERS_REPL": {}}), generated={"ORDERS_REPL": "repl-pw"})
    assert sorted(Credentials(stack, {}).known()) == ["app-pw", "repl-pw"]


def test_errors_name_the_field_or_the_source_when_the_file_names_none(tmp_path):
    spec = definition(tmp_path, {"app": {"user": "a", "password": {"env": "X"}}}).spec
    assert located(spec, Credential(env="X")) == "components.postgres.users.app.password"
    assert located(spec, Credential(env="Y")) is None
    assert describe(Credential(container_env={"service": "db-1", "variable": "V"})) == \
        "{container_env: {service: db-1, variable: V}}"
    stack = Stack(definition(tmp_path, {}))
    with pytest.raises(StackError, match=r"^the credential \{generated: ORDERS_NOPE\}"):
        Credentials(stack, {}).resolve(Credential(generated="ORDERS_NOPE"))


def test_the_project_s_secrets_include_generated_variables_and_credentials(tmp_path):
    from drills.stack.project import ComposeProject

    (tmp_path / "app.txt").write_text("orders-app-pw\n")
    users = {"app": {"user": "orders_app", "password": {"file": "app.txt"}}}
    stack = Stack(definition(tmp_path, users, {"ORDERS_REPL": {"secret": 8}}),
                  generated=Generated.generate({"ORDERS_REPL": GeneratedVariable(secret=8)}).values)
    project = ComposeProject(stack.settings)
    values = project.secret_values()
    assert "orders-app-pw" in values
    assert stack.settings.generated.values["ORDERS_REPL"] in values
    assert stack.settings.secrets.app_password in values
    app = project.definition.component("postgres", PostgresBase).login("app").password
    assert project.credential(app) == "orders-app-pw"
