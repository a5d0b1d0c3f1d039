"""stacks/examples/debian-patroni: a stack written for its own team, not for Drills (issue 21).

Its Compose file must stay free of Drills' conventions (no DRILLS_ variable, no published port, no
io.drills label, no fixed subnet), and its stack file must say what Drills cannot read from the
Compose file, consistently with it: the roles name its services, the credentials name its secrets,
whose variables the stack file declares, and the Patroni and HAProxy settings baked into its images
agree with what the stack file tells Drills. Only files are read: no Docker.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from drills.components._postgres_spec import PostgresBase
from drills.files.stack_file import check_stack_file

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "stacks" / "examples" / "debian-patroni"
IMAGES = EXAMPLE / "images"


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text())


def compose() -> dict[str, Any]:
    return load(EXAMPLE / "compose.yaml")  # type: ignore[no-any-return]


def strings(node: Any) -> Iterator[str]:
    """Every key and scalar of a parsed YAML document (comments are not data)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)
    elif node is not None:
        yield str(node)


@pytest.mark.parametrize("name", ["compose.yaml", "stack.yaml"])
def test_no_drills_variable_or_label_is_spelled(name):
    spelled = [s for s in strings(load(EXAMPLE / name)) if re.search(r"DRILLS_|io\.drills\.", s)]
    assert spelled == []


def test_the_images_spell_no_drills_variable_and_use_no_drills_image():
    for path in IMAGES.rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert "DRILLS_" not in text, path
            assert not re.search(r"^FROM\s+drills/", text, re.M), path


def test_no_service_publishes_a_port_or_fixes_an_address():
    spec = compose()
    for name, service in spec["services"].items():
        assert "ports" not in service, name
        assert service.get("network_mode") != "host", name
        networks = service.get("networks") or {}
        if isinstance(networks, dict):  # the list form names networks only
            assert not any((n or {}).get("ipv4_address") for n in networks.values()), name
    for name, network in (spec.get("networks") or {}).items():
        assert "ipam" not in (network or {}), name


def test_the_only_variables_compose_reads_are_the_secrets_the_stack_file_generates():
    text = (EXAMPLE / "compose.yaml").read_text()
    assert re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", text) == []  # no interpolation at all
    sources = {s["environment"] for s in compose()["secrets"].values()}
    assert sources == {"ORDERS_DBA_PASSWORD", "ORDERS_REPL_PASSWORD", "ORDERS_APP_PASSWORD"}
    definition, problems = check_stack_file(EXAMPLE / "stack.yaml")
    assert problems == [] and definition is not None
    assert set(definition.spec.variables) == sources


def test_the_stack_file_validates_and_agrees_with_the_compose_file():
    definition, problems = check_stack_file(EXAMPLE / "stack.yaml")
    assert problems == [] and definition is not None
    spec = compose()
    services = spec["services"]
    for role, members in definition.declared_roles().items():
        assert set(members) <= set(services), role
    pg = definition.component("postgres", PostgresBase)
    for role in ("app", "superuser", "replication"):
        login = pg.login(role)  # type: ignore[arg-type]
        secret = login.password.secret
        assert secret in spec["secrets"], role
        assert spec["secrets"][secret]["environment"] in definition.spec.variables, role
        for member in definition.declared_roles()["postgres"]:
            assert secret in services[member]["secrets"], (role, member)
    assert (pg.login("app").user, pg.login("superuser").user, pg.login("replication").user) == (
        "orders_app", "dba", "repl")
    assert pg.access is not None and pg.access.through in definition.declared_roles()


def test_patroni_member_names_differ_from_the_service_names_and_its_settings_match_the_stack_file():
    definition, _ = check_stack_file(EXAMPLE / "stack.yaml")
    assert definition is not None
    services = compose()["services"]
    members = {s: services[s]["environment"]["PATRONI_NAME"] for s in definition.declared_roles()["postgres"]}
    assert members == {"db-1": "pgnode-a", "db-2": "pgnode-b", "db-3": "pgnode-c"}
    patroni = load(IMAGES / "postgres-patroni" / "patroni.yml")
    pg = definition.component("postgres", PostgresBase)
    assert patroni["namespace"] == pg.patroni.namespace and patroni["scope"] == "orders"
    assert patroni["postgresql"]["authentication"]["superuser"]["username"] == pg.login("superuser").user
    assert patroni["postgresql"]["authentication"]["replication"]["username"] == pg.login("replication").user
    assert patroni["restapi"]["listen"].endswith(f":{pg.rest_port}")
    assert patroni["postgresql"]["listen"].endswith(f":{pg.sql_port}")
    dcs = patroni["bootstrap"]["dcs"]
    # Patroni refuses a configuration where loop_wait + 2 * retry_timeout > ttl.
    assert dcs["loop_wait"] + 2 * dcs["retry_timeout"] <= dcs["ttl"]
    assert dcs["postgresql"]["use_pg_rewind"] is True
    # The data directory is inside the node's volume, so Patroni can remove or rename it.
    data_dir = patroni["postgresql"]["data_dir"]
    for member in members:
        mounts = [v.split(":")[1] for v in services[member]["volumes"]]
        assert [m for m in mounts if data_dir.startswith(m.rstrip("/") + "/")], member


def test_the_proxy_sends_port_5000_to_the_primary_of_every_database_node():
    definition, _ = check_stack_file(EXAMPLE / "stack.yaml")
    assert definition is not None
    pg = definition.component("postgres", PostgresBase)
    assert pg.access is not None
    cfg = (IMAGES / "haproxy" / "haproxy.cfg").read_text()
    sections = re.split(r"^(?=\S)", cfg, flags=re.M)
    [listen] = [s for s in sections if re.search(rf"^\s*bind \*:{pg.access.port}$", s, re.M)]
    assert re.search(r"^\s*option httpchk OPTIONS /primary$", listen, re.M)
    assert re.search(r"\bon-marked-down shutdown-sessions\b", listen)
    assert re.search(r"\binit-addr last,libc,none\b", listen)
    servers = re.findall(r"^\s*server \S+ (\S+):(\d+) .*\bcheck port (\d+)\b", listen, re.M)
    assert {host for host, _, _ in servers} == set(definition.declared_roles()["postgres"])
    assert {(int(sql), int(rest)) for _, sql, rest in servers} == {(pg.sql_port, pg.rest_port)}
    assert "pgproxy" in definition.declared_roles()[pg.access.through]


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash here")
@pytest.mark.parametrize("script", ["entrypoint.sh", "post-bootstrap.sh"])
def test_the_node_scripts_parse(script):
    done = subprocess.run(["bash", "-n", str(IMAGES / "postgres-patroni" / script)], capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 0, done.stderr
