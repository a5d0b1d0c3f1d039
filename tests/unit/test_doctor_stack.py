"""`drill doctor --stack X` checks what concerns that stack and says nothing of what it does not
have: only the images of its own components; for an image its Compose files build, that `drill
stack up` builds it (never `docker pull`); no MongoDB image for a stack without a MongoDB role.
The command is driven as a user would (click's CliRunner) with an engine stand-in: no Docker."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

import docker.errors
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from drills.cli import main as cli
from drills.provision import images
from drills.provision.checks import Check, CheckStatus
from drills.provision.engine import EngineInfo
from drills.stack.requirements import for_stack, image_check

ROOT = Path(__file__).resolve().parents[2]
DRILLS_IMAGES = [f"image {spec.name}" for spec in images.discover()]
MONGO_CHECK = "mongo image"  # `drill doctor`'s name for the MongoDB image's check, as users read it


class Images:
    def __init__(self, here: set[str]) -> None:
        self.here = here

    def get(self, name: str) -> Any:
        if name not in self.here:
            raise docker.errors.ImageNotFound(name)
        return type("Image", (), {"id": f"sha256:{name}"})()


class Engine:
    """The engine as `drill doctor` asks it: which images are here."""

    def __init__(self, here: set[str]) -> None:
        self.images = Images(here)


@pytest.fixture
def engine(monkeypatch, tmp_path):
    """An engine with the base image and every Drills image built, and no MongoDB image."""
    fake = Engine({"debian:bookworm-slim"})
    monkeypatch.setattr("drills.provision.engine.info", lambda: EngineInfo("27.0", "1.46", "linux"))
    monkeypatch.setattr("drills.provision.engine.client", lambda timeout=30: fake)
    monkeypatch.setattr("drills.provision.base_image.resolve", lambda client: "debian:bookworm-slim")
    monkeypatch.setattr("drills.provision.images.plan", lambda client, base, specs=None: [
        images.PlannedImage(spec, f"drills/{spec.name}:abc", True) for spec in images.discover()])
    monkeypatch.setattr("drills.stack.subnets.choose", lambda client, also=(): ipaddress.IPv4Network("172.31.9.0/24"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # no remembered MongoDB pull failure
    return fake


def doctor(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli.cli, ["doctor", "--json", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.stdout)


def named(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in report["checks"]}


def test_a_postgres_only_stack_is_told_only_of_its_own_images_and_nothing_of_mongodb(engine):
    _, report = doctor("--stack", str(ROOT / "stacks" / "examples" / "postgres-only"))
    checks = named(report)
    assert "image patroni" in checks and checks["stack roles"]["status"] == "ok"
    assert not {"image rabbitmq", "image haproxy", "image app"} & set(checks), "not this stack's images"
    assert MONGO_CHECK not in checks and report["not_run"] == {}, "no MongoDB role: nothing to warn about"
    assert not any("docker pull" in c["fix"] for c in report["checks"])


def test_the_reference_stack_is_told_of_every_image_and_of_mongodb(engine):
    _, report = doctor("--stack", str(ROOT / "stacks" / "reference"))
    checks = named(report)
    assert set(DRILLS_IMAGES) <= set(checks)
    assert checks[MONGO_CHECK]["status"] == "warn" and report["not_run"], "its MongoDB drills are NOT RUN"


def write_stack(folder: Path) -> Path:
    """A stack of its own images: one built by Compose with a name, one built without, one pulled."""
    (folder / "db").mkdir(parents=True)
    (folder / "db" / "Dockerfile").write_text("FROM debian:bookworm-slim\n")
    (folder / "compose.yaml").write_text(
        "services:\n"
        "  db1: {build: ./db, image: acme/db:1, labels: {io.drills.role: postgres}}\n"
        "  cache: {build: {context: ./db}}\n"
        "  proxy: {image: acme/proxy:2}\n")
    (folder / "stack.yaml").write_text(
        "stack: acme\ncompose: {files: [compose.yaml], pull: never}\n"
        "components: {postgres: {adapter: patroni}}\n")
    return folder


def test_an_image_the_stack_builds_is_said_to_be_built_by_drill_stack_up_never_pulled(engine, tmp_path):
    code, report = doctor("--stack", str(write_stack(tmp_path / "acme")))
    checks = named(report)
    for service in ("db1", "cache"):
        check = checks[f"image of {service}"]
        assert check["status"] == "ok" and "`drill stack up`" in check["detail"] and "docker pull" not in check["fix"]
    assert "acme/db:1 not built yet" in checks["image of db1"]["detail"]
    assert "built once" in checks["image of cache"]["detail"], "an unnamed build is rebuilt for every project"
    assert checks["image of proxy"]["fix"] == "docker pull acme/proxy:2"  # neither here nor built: pulled
    assert not {"base image", MONGO_CHECK, *DRILLS_IMAGES} & set(checks)
    assert code == 1  # the proxy's image is missing and the stack file says pull: never


SERVICE = st.fixed_dictionaries({}, optional={
    "image": st.sampled_from(["acme/a:1", "acme/b:2"]),
    "build": st.one_of(st.just("./ctx"), st.fixed_dictionaries({"context": st.just("/abs/ctx")}))})


@given(SERVICE, st.sampled_from(["never", "missing"]), st.booleans())
def test_a_service_image_is_pulled_only_when_no_build_says_how_to_make_it(spec, pull, here):
    check = image_check("svc", spec, pull, lambda image: here)
    if "build" in spec:
        assert check.status is CheckStatus.OK and "pull" not in check.detail + check.fix
        assert ("`drill stack up`" in check.detail) != (here and "image" in spec)
    elif "image" not in spec:
        assert check.status is CheckStatus.MISSING and "build:" in check.fix
    elif here:
        assert check.status is CheckStatus.OK
    else:
        assert (check.status, "docker pull" in check.fix) == (
            (CheckStatus.MISSING, True) if pull == "never" else (CheckStatus.WARN, False))


def test_the_mongodb_check_is_kept_where_the_roles_were_not_read():
    from drills.files.stack_file import load_stack
    from drills.stack.definition import RoleMap

    definition = load_stack(ROOT / "stacks" / "examples" / "postgres-only", ())
    machine = [Check(MONGO_CHECK, CheckStatus.WARN, "mongo:7 absent"), Check("free disk", CheckStatus.OK, "9 GB")]
    assert [c.name for c in for_stack(machine, definition, None, ())] == [MONGO_CHECK, "free disk"]
    roles = RoleMap.build({}, {"db-a": {"io.drills.role": "postgres"}})
    assert [c.name for c in for_stack(machine, definition, roles, ("db-a",))] == ["free disk"]
    with_mongo = RoleMap.build({}, {"db-a": {"io.drills.role": "postgres"}, "docs1": {"io.drills.role": "mongo"}})
    assert [c.name for c in for_stack(machine, definition, with_mongo, ("db-a", "docs1"))] == [MONGO_CHECK,
                                                                                                 "free disk"]


def test_doctor_reads_each_password_the_stack_file_names_and_locates_the_one_it_cannot(monkeypatch):
    from types import SimpleNamespace

    from drills.stack.requirements import credential_checks
    from tests.stand_ins import offline_credential, reference_definition

    monkeypatch.setenv("ORDERS_DBA_PASSWORD", "dba-pw")
    monkeypatch.delenv("ORDERS_REPL_PASSWORD", raising=False)
    definition = reference_definition(postgres={"users": {
        "superuser": {"user": "dba", "password": {"env": "ORDERS_DBA_PASSWORD"}},
        "replication": {"user": "repl", "password": {"env": "ORDERS_REPL_PASSWORD"}},
        "app": {"user": "orders_app", "password": {"container_env": {"service": "api", "variable": "DB_PW"}}}}})
    stack = SimpleNamespace(definition=definition)
    stack.credential = lambda ref: offline_credential(stack, ref)
    checks = {c.name: c for c in credential_checks(stack)}
    assert checks["password postgres.users.superuser.password"].status.value == "ok"
    missing = checks["password postgres.users.replication.password"]
    assert missing.status.value == "missing" and "ORDERS_REPL_PASSWORD is not set" in missing.detail
    assert "once it runs" in checks["password postgres.users.app.password"].detail
