"""stacks/examples/nginx-balancer: the reference stack with nginx as `lb`. Its stack file is valid
and names nginx; Compose merges its file over the reference one (`compose config`, no engine);
its nginx.conf is what the stack file and the README say (the upstream of the dashboards, passive
checks, retries, the health path); the recorded `nginx -T` is that file; and the image's
entrypoint waits for the upstream names and follows them, run here in bash with a stand-in nginx
and resolver."""

from __future__ import annotations

import ipaddress
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from drills.components import _nginx_conf as conf
from drills.components.nginx import NginxSpec
from drills.files.stack_file import load_stack
from drills.stack.env import Secrets, StackSettings
from drills.stack.project import ComposeProject, default_definition

ROOT = Path(__file__).resolve().parents[2]
HERE = ROOT / "stacks" / "examples" / "nginx-balancer"
NGINX_CONF = HERE / "nginx.conf"


def dump(text: str) -> str:
    """`text` as `nginx -T` prints a configuration of one file."""
    return f"# configuration file /etc/nginx/nginx.conf:\n{text}\n"


def test_the_stack_file_is_the_reference_one_but_its_balancer():
    definition, reference = load_stack(HERE), default_definition()
    http = definition.spec.components.http
    assert isinstance(http, NginxSpec)
    assert (http.balancer, http.port, http.upstream, http.instances) == ("lb", 8080, "dashboards", "dashboard")
    assert definition.spec.roles == reference.spec.roles
    assert definition.spec.backups == reference.spec.backups
    same = {"http"}
    assert definition.spec.components.model_dump(exclude=same) == reference.spec.components.model_dump(exclude=same)
    assert definition.compose_files()[0] == reference.compose_files()[0]


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, object]]:
    definition = load_stack(HERE)
    settings = StackSettings(project="drills-examples", subnet=ipaddress.IPv4Network("172.30.9.0/24"), images={},
                             secrets=Secrets.generate(), definition=definition)
    found: dict[str, dict[str, object]] = ComposeProject(settings, owner_kind="stack").config()["services"]
    return found


def test_compose_builds_lb_from_this_folder_and_keeps_the_reference_s_port_and_health_check(services):
    lb = services["lb"]
    assert lb["image"] == "drills-examples/nginx-balancer:1"
    assert lb["build"] == {"context": str(HERE), "dockerfile": "Dockerfile", "network": "host"}
    assert [p["target"] for p in lb["ports"]] == [8080]  # type: ignore[attr-defined]
    assert "/lb-health" in " ".join(lb["healthcheck"]["test"])  # type: ignore[index]
    assert (HERE / "Dockerfile").read_text().count("FROM debian:bookworm-slim") == 1
    assert "nginx-light" in (HERE / "Dockerfile").read_text()


def test_nginx_conf_balances_the_stack_file_s_instances_as_the_readme_says():
    spec = load_stack(HERE).spec
    http = spec.components.http
    assert isinstance(http, NginxSpec)
    found = conf.balancing(dump(NGINX_CONF.read_text()), http.upstream)
    assert found.upstream is not None
    assert [s.address for s in found.upstream.servers] == [f"{s}:8080" for s in spec.roles[http.instances]]
    assert {(s.options["max_fails"], s.options["fail_timeout"]) for s in found.upstream.servers} == {(1, "5s")}
    assert found.upstream.method == "hash $lb_key consistent"  # the minted DRILLS_LB cookie's key
    [proxy] = found.proxies
    assert proxy.values["proxy_next_upstream"] == "error timeout http_502 http_503"
    # A dead dashboard's address does not refuse, it stops answering: the connect gives up before
    # the probes' 2 s, so the retry on the other one still answers them in time.
    assert proxy.values["proxy_connect_timeout"] == "1s"
    parsed = conf.load(conf.split_dump(dump(NGINX_CONF.read_text())))
    [server] = [d for http_block in parsed if http_block.name == "http" for d in http_block.block or ()
                if d.name == "server"]
    assert [d.args for d in server.block or () if d.name == "listen"] == [(str(http.port),)]
    health = [d for d in server.block or () if d.name == "location" and d.args == ("=", "/lb-health")]
    assert [(d.name, d.args) for d in health[0].block or () if d.name == "return"] == [("return", ("200", "ok\n"))]


def test_the_recorded_nginx_t_is_this_nginx_conf():
    recorded = conf.split_dump((ROOT / "tests" / "unit" / "fixtures" / "effective" / "nginx-T.txt").read_text())
    assert recorded["/etc/nginx/nginx.conf"].strip() == NGINX_CONF.read_text().strip()


# ---- the entrypoint, with a stand-in nginx and resolver ------------------------------------------------

FAKE_NGINX = """#!/bin/bash
case "${1:-}" in
    -s) echo "signal $2" >> "$FAKE_LOG"; exit 0 ;;
    -t) echo "tested" >> "$FAKE_LOG"; exit 0 ;;
esac
echo "start $*" >> "$FAKE_LOG"
trap 'echo "got TERM" >> "$FAKE_LOG"; exit 0' TERM
while :; do sleep 0.05; done
"""
FAKE_GETENT = """#!/bin/bash
[ "$1" = ahostsv4 ] && [ -f "$FAKE_DNS/$2" ] || exit 2
while read -r address; do echo "$address STREAM $2"; done < "$FAKE_DNS/$2"
"""


class Entrypoint:
    def __init__(self, tmp: Path) -> None:
        self.bin, self.dns, self.log = tmp / "bin", tmp / "dns", tmp / "log"
        self.bin.mkdir()
        self.dns.mkdir()
        self.log.touch()
        for name, text in (("nginx", FAKE_NGINX), ("getent", FAKE_GETENT)):
            (self.bin / name).write_text(text)
            (self.bin / name).chmod(0o755)
        self.proc: subprocess.Popen[str] | None = None

    def resolve(self, name: str, address: str | None) -> None:
        path = self.dns / name
        if address is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(address + "\n")

    def start(self, *command: str, wait_s: int = 30) -> subprocess.Popen[str]:
        env = {"PATH": f"{self.bin}:{os.environ['PATH']}", "FAKE_DNS": str(self.dns), "FAKE_LOG": str(self.log),
               "LB_NGINX_CONF": str(NGINX_CONF), "LB_RESOLVE_WAIT_S": str(wait_s), "LB_FOLLOW_EVERY_S": "0.1"}
        self.proc = subprocess.Popen(["bash", str(HERE / "lb-entrypoint"), *command], env=env, text=True,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return self.proc

    def logged(self) -> list[str]:
        return self.log.read_text().splitlines()


def eventually(check: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def entrypoint(tmp_path: Path) -> Iterator[Entrypoint]:
    found = Entrypoint(tmp_path)
    yield found
    if found.proc is not None:
        if found.proc.poll() is None:
            found.proc.kill()
            found.proc.wait(timeout=10)
        if found.proc.stderr is not None:
            found.proc.stderr.close()


def test_nginx_starts_once_every_upstream_name_resolves_and_reloads_when_one_moves(entrypoint):
    entrypoint.resolve("dashboard1", "172.30.9.51")
    proc = entrypoint.start("nginx", "-g", "daemon off;")
    time.sleep(0.5)
    assert entrypoint.logged() == []  # dashboard2 is not up yet: nginx would refuse the configuration
    entrypoint.resolve("dashboard2", "172.30.9.52")
    assert eventually(lambda: entrypoint.logged() == ["start -g daemon off;"]), entrypoint.logged()
    # A dashboard stopped (its name stops resolving) and started again where it was: nothing to do.
    entrypoint.resolve("dashboard2", None)
    time.sleep(0.4)
    entrypoint.resolve("dashboard2", "172.30.9.52")
    time.sleep(0.4)
    assert entrypoint.logged() == ["start -g daemon off;"]
    # Recreated elsewhere: nginx still holds the old address, so it reloads.
    entrypoint.resolve("dashboard1", "172.30.9.61")
    assert eventually(lambda: "signal reload" in entrypoint.logged()), entrypoint.logged()
    proc.send_signal(signal.SIGTERM)  # docker stop: forwarded to nginx, whose exit ends the entrypoint
    assert proc.wait(timeout=10) == 0
    assert entrypoint.logged()[-1] == "got TERM"
    assert "dashboard1=172.30.9.51 dashboard2=172.30.9.52" in proc.stderr.read()  # type: ignore[union-attr]


def test_names_that_never_resolve_do_not_hold_nginx_back_for_ever(entrypoint):
    proc = entrypoint.start("nginx", "-g", "daemon off;", wait_s=1)
    assert eventually(lambda: entrypoint.logged() == ["start -g daemon off;"]), entrypoint.logged()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    assert "not every upstream name resolves after 1s" in proc.stderr.read()  # type: ignore[union-attr]


def test_other_commands_run_as_they_are(entrypoint):
    proc = entrypoint.start("nginx", "-t")
    assert proc.wait(timeout=10) == 0 and entrypoint.logged() == ["tested"]
