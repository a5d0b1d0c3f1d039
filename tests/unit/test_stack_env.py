"""The pure parts of a stack's settings: names, subnets, secrets, the compose environment."""

import ipaddress
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drills.core.errors import StackError
from drills.stack.env import (
    Secrets,
    StackSettings,
    compose_env,
    net_prefix,
    new_project_name,
    settings_from_json,
    settings_to_json,
)
from drills.stack.subnets import host_routes, is_overlap_error, pick_free


def settings(**overrides):
    base = dict(project="drills-abc123", subnet=ipaddress.IPv4Network("172.30.7.0/24"),
                images={"DRILLS_IMAGE_PATRONI": "drills/patroni:1234"}, secrets=Secrets.generate(),
                profiles=("mongo",), variables={"DRILLS_MONGO_IMAGE": "mongo:7", "DRILLS_RESULTS_STORE": "mongo"})
    base.update(overrides)
    return StackSettings(**base)


def test_project_names_are_unique_and_recognised_by_drill_clean():
    names = {new_project_name() for _ in range(200)}
    assert len(names) == 200
    assert all(n.startswith("drills-") and len(n) == len("drills-") + 6 for n in names)
    assert new_project_name("x1") == "drills-x1"


def test_compose_env_sets_every_variable_the_compose_file_reads():
    s = settings()
    env = compose_env(s, {"PATH": "/bin", "DOCKER_HOST": "unix:///x"})
    assert env["COMPOSE_PROJECT_NAME"] == "drills-abc123"
    assert env["DRILLS_SUBNET"] == "172.30.7.0/24"
    assert env["DRILLS_NET_PREFIX"] == "172.30.7"
    assert env["DRILLS_IMAGE_PATRONI"] == "drills/patroni:1234"
    assert env["DRILLS_APP_PASSWORD"] == s.secrets.app_password
    assert env["DRILLS_MONGO_IMAGE"] == "mongo:7"
    assert env["PATH"] == "/bin" and env["DOCKER_HOST"] == "unix:///x"


def test_compose_env_drops_stray_drills_and_compose_variables_of_the_caller():
    env = compose_env(settings(), {"DRILLS_APP_PASSWORD": "leaked", "COMPOSE_PROFILES": "mongo",
                                   "COMPOSE_FILE": "other.yml", "DRILLS_PATRONI_TTL": "99", "DRILLS_HOME": "/src"})
    assert env["DRILLS_APP_PASSWORD"] != "leaked"
    assert "COMPOSE_PROFILES" not in env and "COMPOSE_FILE" not in env and "DRILLS_PATRONI_TTL" not in env
    assert env["DRILLS_HOME"] == "/src"


def test_secrets_are_fresh_hex_and_never_shown_by_repr():
    a, b = Secrets.generate(), Secrets.generate()
    assert a != b
    for value in a.env().values():
        assert int(value, 16) >= 0 and len(value) >= 32
    assert 6 <= len(a.mongo_keyfile) <= 1024  # mongod's key file bounds
    text = repr(a) + str(settings(secrets=a))
    assert not any(v in text for v in a.env().values())


def test_settings_round_trip_through_json():
    s = settings(left_out={"mongo": "image mongo:7 absent"}, profiles=())
    assert settings_from_json(settings_to_json(s)) == s
    from drills.stack.project import default_definition
    from tests.stand_ins import reference_roles

    s = settings(definition=default_definition(), roles=reference_roles())
    assert settings_from_json(settings_to_json(s)) == s


def test_unreadable_settings_are_a_stack_error():
    with pytest.raises(StackError):
        settings_from_json({"project": "drills-x"})
    doc = settings_to_json(settings())
    del doc["secrets"]["DRILLS_MONGO_KEYFILE"]
    with pytest.raises(StackError, match="DRILLS_MONGO_KEYFILE"):
        settings_from_json(doc)


def test_net_prefix_needs_a_slash_24():
    assert net_prefix(ipaddress.IPv4Network("10.9.8.0/24")) == "10.9.8"
    with pytest.raises(StackError):
        net_prefix(ipaddress.IPv4Network("10.9.0.0/16"))


@given(st.sets(st.integers(0, 255), max_size=254), st.integers(0, 2**32))
def test_pick_free_never_returns_a_used_subnet(used_thirds, seed):
    pool = ipaddress.IPv4Network("172.30.0.0/16")
    used = [ipaddress.IPv4Network(f"172.30.{i}.0/24") for i in used_thirds]
    picked = pick_free(used, pool, random.Random(seed))
    assert picked.prefixlen == 24 and picked.subnet_of(pool)
    assert not any(picked.overlaps(u) for u in used)


def test_pick_free_avoids_bigger_overlapping_networks_and_fails_when_full():
    pool = ipaddress.IPv4Network("172.30.0.0/23")
    docker_default = ipaddress.IPv4Network("172.30.0.0/24")
    assert pick_free([docker_default], pool) == ipaddress.IPv4Network("172.30.1.0/24")
    with pytest.raises(StackError, match="no free /24"):
        pick_free([ipaddress.IPv4Network("172.16.0.0/12")], pool)


def test_host_routes_reads_proc_net_route(tmp_path):
    route = tmp_path / "route"
    route.write_text(
        "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n"
        "eth0\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"  # default route: ignored
        "eth0\t0001A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"  # 192.168.1.0/24
        "docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n"  # 172.17.0.0/16
    )
    assert host_routes(route) == [ipaddress.IPv4Network("192.168.1.0/24"), ipaddress.IPv4Network("172.17.0.0/16")]
    assert host_routes(tmp_path / "absent") == []


def test_overlap_errors_are_recognised():
    assert is_overlap_error("Error response from daemon: Pool overlaps with other one on this address space")
    assert not is_overlap_error("no such image")


# ---- the stack file's own variables (`variables:`) ------------------------------------------------


@given(st.dictionaries(st.from_regex(r"[A-Z][A-Z0-9_]{0,12}", fullmatch=True), st.integers(8, 64), max_size=5))
def test_generated_variables_are_fresh_hex_of_the_declared_size(declared: dict[str, int]) -> None:
    from drills.stack.definition import GeneratedVariable
    from drills.stack.env import Generated

    specs = {name: GeneratedVariable(secret=n) for name, n in declared.items()}
    a, b = Generated.generate(specs), Generated.generate(specs)
    assert set(a.values) == set(declared)
    assert all(len(a.values[name]) == 2 * n and int(a.values[name], 16) >= 0 for name, n in declared.items())
    assert all(a.values[name] != b.values[name] for name in declared)  # 8+ random bytes never repeat


def test_generated_variables_reach_compose_are_saved_and_never_shown():
    from drills.stack.env import Generated

    generated = Generated({"ORDERS_APP_PASSWORD": "0123456789abcdef", "ORDERS_REPL": "fedcba9876543210"})
    s = settings(generated=generated)
    env = compose_env(s, {"ORDERS_APP_PASSWORD": "from-the-shell", "PATH": "/bin"})
    assert env["ORDERS_APP_PASSWORD"] == "0123456789abcdef"  # Drills generates it: the shell's cannot win
    assert env["ORDERS_REPL"] == "fedcba9876543210"
    assert settings_from_json(settings_to_json(s)) == s
    text = repr(s) + str(s) + repr(generated)
    assert "0123456789abcdef" not in text and "fedcba9876543210" not in text
    assert "ORDERS_APP_PASSWORD=***" in repr(generated)


def test_settings_saved_before_stack_files_had_variables_still_load():
    saved = settings_to_json(settings())
    del saved["generated"]
    assert settings_from_json(saved).generated.values == {}


def _declaring(variables):
    from pathlib import Path

    from drills.stack.definition import StackDefinition, StackFile

    spec = StackFile.model_validate({"stack": "shop", "compose": {"files": ["compose.yaml"]}, "variables": variables,
                                     "components": {"postgres": {"adapter": "patroni"}}})
    return StackDefinition(Path("/stacks/shop/stack.yaml"), spec)


def test_the_reference_stack_file_declares_every_variable_drills_set_for_it():
    """Drills' own variables come from the stack file now: the reference's declares the eight that
    were constants, so its Compose environment has the same names, sizes and network values."""
    from drills.stack.project import default_definition

    definition = default_definition()
    s = settings(definition=definition, secrets=Secrets.generate(definition.spec.drills_variables()))
    env = compose_env(s, {})
    sizes = {name: len(env[name]) for name in s.secrets}
    assert sizes == {"DRILLS_PG_SUPERUSER_PASSWORD": 32, "DRILLS_PG_REPLICATION_PASSWORD": 32,
                     "DRILLS_APP_PASSWORD": 32, "DRILLS_RABBITMQ_COOKIE": 40, "DRILLS_MONGO_ROOT_PASSWORD": 32,
                     "DRILLS_MONGO_KEYFILE": 96}
    assert (env["DRILLS_SUBNET"], env["DRILLS_NET_PREFIX"]) == ("172.30.7.0/24", "172.30.7")
    assert definition.spec.drills_variables() == _declaring({}).spec.drills_variables()  # as a file declaring none


def test_a_stack_file_gets_only_the_variables_it_declares():
    definition = _declaring({"DRILLS_APP_PASSWORD": "secret", "DRILLS_NET_PREFIX": "net_prefix",
                             "SHOP_PASSWORD": {"secret": 8}, "SHOP_NET": "subnet"})
    s = settings(definition=definition, secrets=Secrets.generate(definition.spec.drills_variables()))
    assert set(s.secrets) == {"DRILLS_APP_PASSWORD"}
    env = compose_env(s, {})
    assert env["DRILLS_NET_PREFIX"] == "172.30.7" and env["SHOP_NET"] == "172.30.7.0/24"
    assert "DRILLS_SUBNET" not in env and "DRILLS_PG_SUPERUSER_PASSWORD" not in env
    assert settings_from_json(settings_to_json(s)) == s
    # Asked by attribute for one the file does not declare: the fix, not an AttributeError
    assert s.secrets.app_password == s.secrets["DRILLS_APP_PASSWORD"]
    with pytest.raises(StackError, match="no DRILLS_MONGO_ROOT_PASSWORD") as caught:
        _ = s.secrets.mongo_root_password
    assert caught.value.hint is not None and "DRILLS_MONGO_ROOT_PASSWORD: secret" in caught.value.hint
    with pytest.raises(AttributeError):
        _ = s.secrets.not_a_variable
    # Saved settings must hold what the saved stack file declares
    doc = settings_to_json(s)
    doc["secrets"] = {}
    with pytest.raises(StackError, match="DRILLS_APP_PASSWORD"):
        settings_from_json(doc)


def test_saved_settings_keep_each_pulled_images_profile_under_its_old_names():
    """`<profile>_image` and `<profile>_not_run` (mongo_image, mongo_not_run), spelled through the
    registry's PulledImage: settings saved before the profile's fields were generic stay readable."""
    from drills.components.registry import pulled_images

    (pulled,) = pulled_images()
    saved = settings_to_json(settings(profiles=()))
    assert saved[f"{pulled.profile}_image"] == pulled.reference and saved[f"{pulled.profile}_not_run"] == ""
    old = {**saved, f"{pulled.profile}_image": "registry.example/site:7", f"{pulled.profile}_not_run": "image x absent"}
    read = settings_from_json(old)
    assert read.pulled_image(pulled.profile) == "registry.example/site:7"
    assert read.not_run(pulled.profile) == "image x absent" and read.not_run("other") == ""
    assert settings_to_json(read) == old
    bare = {k: v for k, v in saved.items() if not k.startswith(pulled.profile + "_")}
    assert settings_from_json(bare).pulled_image(pulled.profile) == pulled.reference
