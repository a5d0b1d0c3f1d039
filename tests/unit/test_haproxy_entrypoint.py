"""The balancer's backends come from the `lb` service's environment (DRILLS_LB_BACKENDS), rendered
into HAProxy's configuration by the image's entrypoint: an override adds a dashboard without
editing the project. The script runs here as it does in the container (bash), on the real template."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
IMAGE = ROOT / "fixtures" / "images" / "haproxy"
SERVER = re.compile(r"^\s*server (\S+) (\S+) cookie (\S+)$", re.M)


def render(tmp: Path, backends: str | None) -> tuple[subprocess.CompletedProcess[str], str]:
    out = tmp / "haproxy.cfg"
    out.unlink(missing_ok=True)
    env = {"PATH": os.environ["PATH"], "DRILLS_LB_TEMPLATE": str(IMAGE / "haproxy.cfg"), "DRILLS_LB_CONFIG": str(out)}
    if backends is not None:
        env["DRILLS_LB_BACKENDS"] = backends
    done = subprocess.run(["bash", str(IMAGE / "drills-entrypoint"), "true"], env=env, capture_output=True,
                          text=True, timeout=30, stdin=subprocess.DEVNULL)
    return done, out.read_text() if out.exists() else ""


def last_section(cfg: str) -> str:
    headers = re.findall(r"^((?:global|defaults|resolvers|frontend|backend|listen)\b.*)$", cfg, re.M)
    return " ".join(headers[-1].split())


def test_the_template_lists_no_server_and_ends_in_the_dashboards_backend():
    template = (IMAGE / "haproxy.cfg").read_text()
    assert SERVER.findall(template) == []
    assert last_section(template) == "backend dashboards"  # where appended servers land


def test_the_default_backends_render_the_two_dashboards_with_a_cookie_each(tmp_path):
    done, cfg = render(tmp_path, "dashboard1 dashboard2")
    assert done.returncode == 0, done.stderr
    assert SERVER.findall(cfg) == [("dashboard1", "dashboard1:8080", "d1"), ("dashboard2", "dashboard2:8080", "d2")]
    assert cfg.startswith((IMAGE / "haproxy.cfg").read_text())
    assert last_section(cfg) == "backend dashboards"


names = st.lists(st.from_regex(r"[a-z][a-z0-9_-]{0,15}", fullmatch=True), min_size=1, max_size=6, unique=True)


@settings(max_examples=25)
@given(names, st.sampled_from([" ", ",", ", "]))
def test_every_named_backend_gets_one_server_and_a_cookie_of_its_own(tmp_path_factory, backends, sep):
    done, cfg = render(tmp_path_factory.mktemp("lb"), sep.join(backends))
    assert done.returncode == 0, done.stderr
    servers = SERVER.findall(cfg)
    assert [(s[0], s[1]) for s in servers] == [(n, f"{n}:8080") for n in backends]
    assert len({s[2] for s in servers}) == len(backends)


def test_a_port_can_be_given(tmp_path):
    done, cfg = render(tmp_path, "dashboard1 web:9090")
    assert done.returncode == 0, done.stderr
    assert SERVER.findall(cfg)[1] == ("web", "web:9090", "d2")


def test_no_backend_a_bad_name_or_a_repeated_one_is_refused_and_nothing_is_rendered(tmp_path):
    for backends, says in ((None, "names no dashboard"), ("  ", "names no dashboard"),
                           ("dashboard1 a;b", "'a;b' is not a service name"),
                           ("dashboard1\n#x", "'#x' is not a service name"),
                           ("dashboard1 dashboard1", "names dashboard1 twice")):
        done, cfg = render(tmp_path, backends)
        assert done.returncode != 0 and says in done.stderr, (backends, done.stderr)
        assert cfg == ""


def test_the_compose_default_puts_every_dashboard_of_the_stack_behind_the_balancer():
    compose = YAML(typ="safe").load((ROOT / "docker-compose.ha.yml").read_text())
    value = compose["services"]["lb"]["environment"]["DRILLS_LB_BACKENDS"]
    default = re.fullmatch(r"\$\{DRILLS_LB_BACKENDS:-(.*)\}", value)
    assert default is not None
    dashboards = sorted(s for s in compose["services"] if re.fullmatch(r"dashboard\d+", s))
    assert default.group(1).split() == dashboards
