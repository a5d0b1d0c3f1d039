"""nginx as the HTTP balancer (`drills.components.nginx`): its configuration read back from
recorded `nginx -T` outputs (fixtures/effective/nginx-T*.txt: the example stack's image, and
Debian's stock nginx.conf with an upstream in conf.d/ and a site in sites-enabled/), the words
status and the effective configuration show for it, and what it says when it cannot read."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drills.components import _nginx_conf as conf
from drills.components import nginx, registry
from drills.components._haproxy_effective import read_balancer
from drills.components.nginx import NginxSpec
from drills.core.effective_config import ABSENT, NOT_READ, READ, Part
from drills.stack import loadbalancer
from drills.stack.definition import RoleMap
from drills.stack.effective_text import part_text
from drills.stack.env import Secrets, StackSettings
from drills.stack.live import StackLive, as_live
from drills.stack.services import ServiceInfo

FIXTURES = Path(__file__).parent / "fixtures" / "effective"
EXAMPLE = (FIXTURES / "nginx-T.txt").read_text()
DEBIAN = (FIXTURES / "nginx-T-debian-includes.txt").read_text()
SPEC = NginxSpec(balancer="lb", port=8080, upstream="dashboards", instances="dashboard")


# ---- the configuration, parsed --------------------------------------------------------------------


def test_the_example_s_upstream_its_passive_checks_and_its_retry_rules():
    found = conf.balancing(EXAMPLE, "dashboards")
    assert found.upstream is not None
    assert found.upstream.method == "hash $lb_key consistent"
    assert [(s.address, dict(s.options), s.defaulted) for s in found.upstream.servers] == [
        ("dashboard1:8080", {"weight": 1, "max_fails": 1, "fail_timeout": "5s"}, ("weight",)),
        ("dashboard2:8080", {"weight": 1, "max_fails": 1, "fail_timeout": "5s"}, ("weight",)),
    ]
    assert [(p.location, p.defaulted) for p in found.proxies] == [("location /", ("proxy_next_upstream_timeout",))]
    assert found.proxies[0].values == {
        "proxy_next_upstream": "error timeout http_502 http_503", "proxy_next_upstream_tries": "2",
        "proxy_next_upstream_timeout": "0", "proxy_connect_timeout": "1s", "proxy_read_timeout": "10s"}
    assert found.upstream.where == "/etc/nginx/nginx.conf:41"


def test_debian_s_layout_includes_are_followed_and_values_inherited_from_the_server():
    files = conf.split_dump(DEBIAN)
    assert list(files) == ["/etc/nginx/nginx.conf", "/etc/nginx/modules-enabled/50-mod-http-echo.conf",
                           "/etc/nginx/mime.types", "/etc/nginx/conf.d/upstreams.conf", "/etc/nginx/sites-enabled/api"]
    found = conf.balancing(DEBIAN, "api_pool")
    assert found.known == ("api_pool", "static")
    assert found.upstream is not None and found.upstream.method == "least_conn"
    assert [(s.address, dict(s.options)) for s in found.upstream.servers] == [
        ("api-1:9000", {"weight": 2, "max_fails": 3, "fail_timeout": "30s"}),
        ("api-2:9000", {"weight": 1, "max_fails": 1, "fail_timeout": "10s"}),  # nginx's defaults, marked so
        ("10.0.0.9:9000", {"weight": 1, "max_fails": 1, "fail_timeout": "10s", "backup": True}),
    ]
    assert found.upstream.servers[1].defaulted == ("weight", "max_fails", "fail_timeout")
    [api] = found.proxies
    assert (api.location, api.where) == ("location /api/", "/etc/nginx/sites-enabled/api:8")
    assert api.values["proxy_next_upstream"] == "error timeout http_503"  # the server's, inherited
    assert api.values["proxy_connect_timeout"] == "2s" and api.values["proxy_read_timeout"] == "30s"
    static = conf.balancing(DEBIAN, "static")
    assert static.upstream is not None and static.upstream.method == "round-robin"
    assert static.upstream.servers[0].options["down"] is True
    assert static.proxies[0].values["proxy_next_upstream"] == "off"


def test_tokens_follow_nginx_s_quotes_escapes_comments_and_variables():
    text = 'location ~ \\.php$ { set $a "x;\\"y {z}"; return 200 ${a}b; } # a comment; {\nfoo#bar \'q\\\'s\';'
    assert [t for t, special, _ in conf.tokens(text) if not special] == [
        "location", "~", "\\.php$", "set", "$a", 'x;"y {z}', "return", "200", "${a}b", "foo#bar", "q's"]
    [location, foo] = conf.parse(text, "t.conf")
    assert location.block is not None and [d.name for d in location.block] == ["set", "return"]
    assert (foo.name, foo.args, foo.where) == ("foo#bar", ("q's",), "t.conf:2")


@pytest.mark.parametrize(("text", "message"), [
    ("http { upstream a { server x; }", "ends inside `http` block"),
    ("http { } }", "t.conf:1: unexpected }"),
    ('error_log "stderr;', "t.conf:1: a quote"),
    ("{ }", "a block without a directive"),
])
def test_a_configuration_nginx_would_not_have_dumped_is_a_conf_error(text, message):
    with pytest.raises(conf.ConfError, match=message):
        conf.parse(text, "t.conf")


def test_an_output_without_a_file_is_not_a_dump():
    with pytest.raises(conf.ConfError, match=r"no `# configuration file` section.*host not found"):
        conf.split_dump('nginx: [emerg] host not found in upstream "dashboard1:8080"\n')


def test_an_include_that_names_its_own_file_ends():
    with pytest.raises(conf.ConfError, match="deeper than"):
        conf.load({"/etc/nginx/nginx.conf": "include nginx.conf;"})


SERVER = st.fixed_dictionaries({
    "address": st.from_regex(r"[a-z][a-z0-9-]{0,10}:[1-9][0-9]{1,4}", fullmatch=True),
    "max_fails": st.none() | st.integers(0, 9), "fail_timeout": st.none() | st.sampled_from(["1s", "5s", "30s", "1m"]),
    "weight": st.none() | st.integers(1, 5), "backup": st.booleans()})


@given(st.lists(SERVER, min_size=1, max_size=5, unique_by=lambda s: s["address"]),
       st.sampled_from(["", "ip_hash;", "least_conn;", "hash $cookie_x consistent;"]), st.booleans())
def test_an_upstream_reads_back_as_written(servers, method, extra_files):
    lines = []
    for s in servers:
        options = [f"{k}={s[k]}" for k in ("weight", "max_fails", "fail_timeout") if s[k] is not None]
        lines.append(" ".join(["server", s["address"], *options, *(["backup"] if s["backup"] else [])]) + ";")
    body = "\n  ".join([method, *lines])
    upstream = f"upstream pool {{\n  {body}\n}}\n"
    files = {"/etc/nginx/nginx.conf": "events {}\nhttp {\n  include conf.d/*.conf;\n  server { location / "
                                      "{ proxy_pass http://pool; } }\n}\n"}
    if extra_files:  # the upstream in conf.d/, beside a file that is no include's
        files |= {"/etc/nginx/conf.d/pool.conf": upstream, "/etc/nginx/other/x.conf": "upstream pool { }"}
    else:
        files["/etc/nginx/nginx.conf"] = files["/etc/nginx/nginx.conf"].replace("http {\n", "http {\n" + upstream)
    dump = "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n" + "".join(
        f"# configuration file {path}:\n{text}\n" for path, text in files.items())
    found = conf.balancing(dump, "pool")
    assert found.upstream is not None
    assert found.upstream.method == (method.rstrip(";") or "round-robin")
    for s, read in zip(servers, found.upstream.servers, strict=True):
        assert read.address == s["address"]
        for key, default in conf.SERVER_DEFAULTS.items():
            assert read.options[key] == (default if s[key] is None else s[key])
            assert (key in read.defaulted) == (s[key] is None)
        assert read.options.get("backup", False) is s["backup"]
    assert [p.location for p in found.proxies] == ["location /"]


# ---- read from a running stack -----------------------------------------------------------------------


def info(service: str, ip: str, state: str = "running") -> ServiceInfo:
    return ServiceInfo(service, f"id-{service}-0123456789ab", f"drills-t-{service}-1", state, "Up", None, ip,
                       {8080: 41000})


class Container:
    def __init__(self, answers: Mapping[str, tuple[int, str]]) -> None:
        self.answers, self.ran = answers, []

    def exec_run(self, argv: list[str]) -> SimpleNamespace:
        self.ran.append(argv)
        code, out = self.answers[" ".join(argv)]
        return SimpleNamespace(exit_code=code, output=out.encode())


class Stack:
    """A running stack as `read_effective` and `collect` see it, its lb answering `answers`."""

    def __init__(self, answers: Mapping[str, tuple[int, str]], lb_state: str = "running") -> None:
        self.settings = StackSettings("drills-t", ipaddress.IPv4Network("172.30.9.0/24"), {}, Secrets.generate(),
                                      roles=RoleMap.build({"dashboard": ["dashboard1", "dashboard2"]}, {}))
        self.container = Container(answers)
        self.client = SimpleNamespace(containers=SimpleNamespace(get=lambda cid: self.container))
        self.snap = {"lb": info("lb", "172.30.9.20", lb_state), "dashboard1": info("dashboard1", "172.30.9.51"),
                     "dashboard2": info("dashboard2", "172.30.9.52")}

    def snapshot(self) -> dict[str, ServiceInfo]:
        return self.snap

    def defined_services(self) -> tuple[str, ...]:
        return tuple(self.snap)


RUNNING = {"nginx -T": (0, EXAMPLE), "nginx -v": (0, "nginx version: nginx/1.22.1\n")}


def test_the_effective_configuration_is_the_upstream_its_checks_and_its_retries_and_no_health_state():
    stack = Stack(RUNNING)
    part = read_balancer(stack.snap, SPEC, live=as_live(stack, stack.snap), adapter=nginx.ADAPTER)  # type: ignore[arg-type]
    assert part.status == READ and part.not_read == {}
    assert stack.container.ran == [["nginx", "-T"], ["nginx", "-v"]]
    s = part.settings
    assert (s["adapter"], s["balancer"], s["version"], s["upstream"]) == ("nginx", "lb", "1.22.1", "dashboards")
    assert s["servers"] == ["dashboard1:8080", "dashboard2:8080"]
    assert s["server_options"]["dashboard1:8080"] == {"weight": 1, "max_fails": 1, "fail_timeout": "5s"}
    assert s["proxy"]["location /"]["proxy_next_upstream"] == "error timeout http_502 http_503"
    assert "dashboard1:8080 weight" in s["nginx_defaults"]
    assert part.state["services"] == {"dashboard1:8080": "dashboard1", "dashboard2:8080": "dashboard2"}
    assert part_text("balancer", part) == (
        "lb: nginx 1.22.1, upstream dashboards (hash $lb_key consistent): dashboard1:8080 max_fails 1 fail_timeout "
        "5s, dashboard2:8080 max_fails 1 fail_timeout 5s; location /: proxy_next_upstream error timeout http_502 "
        "http_503, proxy_next_upstream_tries 2, proxy_next_upstream_timeout 0, proxy_connect_timeout 1s, "
        "proxy_read_timeout 10s; no health state")
    # The part goes through the journal and back: the words stay the adapter's.
    assert part_text("balancer", Part.from_json(part.to_json())) == part_text("balancer", part)


def test_status_names_the_servers_as_services_and_says_nginx_keeps_no_health_state():
    stack = Stack(RUNNING)
    lb = loadbalancer.read_status(stack.snap, SPEC, live=as_live(stack, stack.snap))  # type: ignore[arg-type]
    assert lb.error is None and lb.backends == ()
    assert lb.summary == "nginx: no health state (upstream servers: dashboard1, dashboard2)"
    assert lb.detail["servers"] == ["dashboard1:8080", "dashboard2:8080"]
    view = nginx.status(SPEC, as_live(stack))  # type: ignore[arg-type]
    assert view.rows == (("dashboard1:8080", "dashboard1", "1", "5s"), ("dashboard2:8080", "dashboard2", "1", "5s"))


def test_an_haproxy_part_keeps_its_own_words():
    part = Part(READ, settings={"balancer": "lb", "backend": "dashboards", "servers": ["dashboard1"]},
                state={"backends": {"dashboard1": "UP"}})
    assert part_text("balancer", part) == "lb, backend dashboards: dashboard1 UP"


@pytest.mark.parametrize(("answers", "lb_state", "status", "reason"), [
    (RUNNING, "exited", NOT_READ, "lb is exited: nginx -T runs in a running container"),
    ({"nginx -T": (1, 'nginx: [emerg] unknown directive "upstrem" in /etc/nginx/nginx.conf:3\nnginx: configuration '
                      "file /etc/nginx/nginx.conf test failed\n")}, "running", NOT_READ,
     '`nginx -T` in lb exited 1: nginx: [emerg] unknown directive "upstrem"'),
    ({"nginx -T": (0, EXAMPLE.replace("upstream dashboards", "upstream app_servers"))}, "running", NOT_READ,
     "nginx in lb has no upstream 'dashboards' (its upstreams: app_servers): set components.http.upstream"),
    ({"nginx -T": (0, "nothing")}, "running", NOT_READ, "`nginx -T` in lb: no `# configuration file` section"),
])
def test_what_cannot_be_read_says_why(answers, lb_state, status, reason):
    stack = Stack(answers, lb_state)
    part = nginx.read_effective(SPEC, as_live(stack), 1.0)  # type: ignore[arg-type]
    assert part.status == status and part.reason.startswith(reason), part.reason
    lb = loadbalancer.read_status(stack.snap, SPEC, live=as_live(stack))  # type: ignore[arg-type]
    assert lb.error is not None and reason in lb.error and lb.summary is not None


def test_a_balancer_without_a_container_is_absent_and_a_missing_version_is_an_item_not_read():
    stack = Stack(RUNNING)
    del stack.snap["lb"]
    assert nginx.read_effective(SPEC, as_live(stack), 1.0).status == ABSENT  # type: ignore[arg-type]
    stack = Stack({**RUNNING, "nginx -v": (127, "exec: nginx: not found")})
    part = nginx.read_effective(SPEC, as_live(stack), 1.0)  # type: ignore[arg-type]
    assert part.status == READ and "version" in part.not_read and "version" not in part.settings


def test_the_stack_live_answers_from_the_snapshot_and_refuses_what_it_cannot_know():
    stack = Stack(RUNNING)
    live = StackLive(stack)  # type: ignore[arg-type]
    assert live.service_of_host("172.30.9.52") == "dashboard2"
    assert live.service_of_host("dashboard1") == "dashboard1"
    assert live.service_of_host("id-lb-0123456") == "lb"  # a container id's prefix (a default hostname)
    assert live.service_of_host("id-lb") is None and live.service_of_host("10.0.0.9") is None
    assert live.members("dashboard") == ["dashboard1", "dashboard2"]
    assert live.reach("lb", 8080) == ("127.0.0.1", 41000) and live.reach("lb", 9000) is None
    assert live.component("http") is None
    from drills.core.errors import StackError

    with pytest.raises(StackError, match="resolves no password"):
        live.credential(None)  # type: ignore[arg-type]


# ---- the adapter in the registry -----------------------------------------------------------------------


def test_the_adapter_is_registered_as_a_balancer_with_its_spec_and_patterns():
    adapter = registry.adapter_of("nginx")
    assert adapter is nginx.ADAPTER and adapter.kind == "balancer"
    assert adapter.ports(SPEC.model_copy(update={"port": 9000})) == {"http": 9000}
    assert {p.kind for p in adapter.logs} == {kind for _, kind, _ in nginx.SAMPLES}
    assert all(p.regex.search(line) for p, (line, _, _) in zip(adapter.logs, sorted(
        nginx.SAMPLES, key=lambda s: [p.kind for p in adapter.logs].index(s[1])), strict=True))


def test_a_part_of_another_balancer_is_not_taken_for_nginx_s():
    foreign: dict[str, Any] = {"adapter": "traefik", "balancer": "lb", "backend": "b", "servers": []}
    assert part_text("balancer", Part(READ, settings=foreign)) == "lb, backend b: "
