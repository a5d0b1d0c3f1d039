"""nginx as the HTTP balancer of a stack's app tier: `components.http` with `adapter: nginx`.

What Drills reads of it, and what it cannot:
- its configuration: the upstream's servers with their passive checks (`max_fails`,
  `fail_timeout`), how it balances, and the retry rules (`proxy_next_upstream`, timeouts) of each
  location that proxies to it, from `nginx -T` run inside the balancer's container (parsed by
  `_nginx_conf`, pure). That is the effective configuration's balancer part, and the servers
  `drill stack status` lists;
- no health state of a server: OSS nginx keeps which servers it took out (max_fails reached) in
  its workers' memory and shows it nowhere (stub_status counts connections; the API that lists
  peers' state is nginx Plus's). So the status says "no health state" and names the servers,
  never UP or DOWN: a guess would read like a measurement;
- its error log: a server that refused or did not answer, a server taken out, no server left
  (`LOGS`, each with a line nginx 1.22 wrote in `SAMPLES`).

The docker client is used through `Live` only, inside the functions: reading the registry
imports nothing of it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from drills.components._nginx_conf import Balancing, ConfError, balancing
from drills.components.base import Adapter, BalancerSpec, Effective, Live, LogPattern, Name, Port, RoleName, StatusView
from drills.core.effective_config import READ, Part, absent, not_read

NAME = "nginx"
NO_HEALTH_STATE = "no health state"
_VERSION = re.compile(r"nginx/(\S+)")


class NginxSpec(BalancerSpec):
    """HTTP instances behind nginx. The defaults are the reference stack's names; a stack written
    elsewhere names its own."""

    adapter: Literal["nginx"] = Field("nginx", description="The balancer is nginx (its configuration is read "
                                                           "with `nginx -T` inside its container).")
    balancer: Name = Field("lb", description="The balancer's service.")
    port: Port = Field(8080, description="nginx's HTTP port inside its container (a `listen` of the server "
                                         "that proxies to the upstream).")
    upstream: Name = Field("dashboards", description="The `upstream` block whose servers are the instances "
                                                     "behind the balancer.")
    instances: RoleName = Field("dashboard", description="The role of the instances behind the balancer.")


# ---- the configuration, read in the container --------------------------------------------------------


@dataclass(frozen=True)
class _Read:
    """What one look into the balancer's container found: the configuration, or a part saying why not."""

    found: Balancing | None = None
    services: Mapping[str, str | None] | None = None  # server address -> the service it is, where known
    version: str | None = None
    failed: Part | None = None


def _exec(live: Live, container_id: str, argv: list[str]) -> tuple[int, str]:
    done = live.client.containers.get(container_id).exec_run(argv)
    output = done.output.decode(errors="replace") if isinstance(done.output, bytes) else str(done.output)
    return int(done.exit_code or 0), output


def _host(address: str) -> str | None:
    """The host of a `server` address (dashboard1:8080 -> dashboard1); None for a unix: socket."""
    if address.startswith("unix:"):
        return None
    if address.startswith("["):  # [::1]:8080
        return address[1:].partition("]")[0]
    return address.rsplit(":", 1)[0] if address.count(":") == 1 else address


def _read(spec: NginxSpec, live: Live) -> _Read:
    snap = live.snapshot()
    node = snap.get(spec.balancer)
    if node is None:
        return _Read(failed=absent(f"no container of the balancer {spec.balancer}"))
    if node.state != "running":
        return _Read(failed=not_read(f"{spec.balancer} is {node.state}: nginx -T runs in a running container"))
    code, out = _exec(live, node.container_id, ["nginx", "-T"])
    if code != 0:
        tail = " / ".join(out.strip().splitlines()[-3:])
        return _Read(failed=not_read(f"`nginx -T` in {spec.balancer} exited {code}: {tail[-300:]}"))
    try:
        found = balancing(out, spec.upstream)
    except ConfError as exc:
        return _Read(failed=not_read(f"`nginx -T` in {spec.balancer}: {exc}"))
    if found.upstream is None:
        known = ", ".join(found.known) or "none"
        return _Read(failed=not_read(f"nginx in {spec.balancer} has no upstream {spec.upstream!r} (its upstreams: "
                                     f"{known}): set components.http.upstream in the stack file to the one in front "
                                     f"of the {spec.instances} instances"))
    services: dict[str, str | None] = {}
    for server in found.upstream.servers:
        host = _host(server.address)
        services[server.address] = live.service_of_host(host, snap) if host else None
    code, out = _exec(live, node.container_id, ["nginx", "-v"])
    version = _VERSION.search(out)
    return _Read(found, services, version.group(1) if code == 0 and version else None)


def read_effective(spec: NginxSpec, live: Live, timeout_s: float) -> Part:
    """The balancer part: the upstream's servers and their passive checks, its method, the proxy
    rules of each location that uses it (`settings`), and which service each server is (`state`).
    A value the configuration does not set is nginx's default, named in `nginx_defaults`. The exec
    takes no timeout (docker's API has none): nginx -T reads files and returns."""
    read = _read(spec, live)
    if read.failed is not None or read.found is None or read.found.upstream is None:
        return read.failed or not_read("nginx -T gave nothing")
    up = read.found.upstream
    defaults = [f"{s.address} {key}" for s in up.servers for key in s.defaulted]
    defaults += [f"{p.location} {key}" for p in read.found.proxies for key in p.defaulted]
    settings: dict[str, Any] = {
        "adapter": NAME, "balancer": spec.balancer, "upstream": up.name, "method": up.method,
        "servers": [s.address for s in up.servers],
        "server_options": {s.address: dict(s.options) for s in up.servers},
        "proxy": {p.location: dict(p.values) for p in read.found.proxies},
        "nginx_defaults": defaults,
    }
    gaps: dict[str, str] = {}
    if read.version is not None:
        settings["version"] = read.version
    else:
        gaps["version"] = f"`nginx -v` in {spec.balancer} named no version"
    if not read.found.proxies:
        gaps["proxy"] = (f"no proxy_pass names the upstream {up.name} (one through a variable cannot be followed): "
                         "its retry rules are not known")
    state = {"services": dict(read.services or {}), "health": f"{NO_HEALTH_STATE}: OSS nginx shows no server's state"}
    return Part(READ, settings=settings, state=state, not_read=gaps)


def _options(options: Mapping[str, Any]) -> str:
    shown = [f"{k} {v}" for k, v in options.items() if k in ("max_fails", "fail_timeout") or (k == "weight" and v != 1)]
    return " ".join([*shown, *(k for k, v in options.items() if v is True)])


def describe(part: Part) -> str:
    """The balancer part in one line: `lb: nginx 1.22.1, upstream dashboards (hash $lb_key
    consistent): dashboard1:8080 max_fails 1 fail_timeout 5s, ...; location /: proxy_next_upstream
    error timeout http_502 http_503, ...; no health state`."""
    s = part.settings
    head = f"{s.get('balancer')}: nginx" + (f" {s['version']}" if s.get("version") else "")
    options: Mapping[str, Any] = s.get("server_options") or {}
    servers = ", ".join(f"{name} {_options(options.get(name) or {})}".strip() for name in s.get("servers") or [])
    text = f"{head}, upstream {s.get('upstream')} ({s.get('method')}): {servers or 'no server'}"
    for location, values in (s.get("proxy") or {}).items():
        text += f"; {location}: " + ", ".join(f"{k} {v}" for k, v in values.items())
    text += f"; {NO_HEALTH_STATE}"
    return text + "".join(f"; {item} not read: {why}" for item, why in part.not_read.items())


def status(spec: NginxSpec, live: Live) -> StatusView:
    """`drill stack status`: the upstream's servers (as the services they are), and that nginx
    keeps no health state Drills could show."""
    read = _read(spec, live)
    if read.failed is not None or read.found is None or read.found.upstream is None:
        why = read.failed.reason if read.failed is not None else "nginx -T gave nothing"
        return StatusView(title=f"{NAME}: upstream {spec.upstream} not read", error=why)
    up, services = read.found.upstream, read.services or {}
    shown = [services.get(s.address) or s.address for s in up.servers]
    rows = tuple((s.address, services.get(s.address) or "?", str(s.options.get("max_fails")),
                  str(s.options.get("fail_timeout"))) for s in up.servers)
    return StatusView(
        title=f"{NAME}: {NO_HEALTH_STATE} (upstream servers: {', '.join(shown) or 'none'})",
        columns=("server", "service", "max_fails", "fail_timeout"), rows=rows,
        notes=(f"OSS nginx keeps which servers it took out in its workers' memory; upstream {up.name} balances by "
               f"{up.method}",),
        data={"adapter": NAME, "upstream": up.name, "servers": [s.address for s in up.servers], "services": shown})


# ---- its error log ---------------------------------------------------------------------------------------

_UPSTREAM = r'.*?upstream: "[a-z]+://([^/"]+)'  # the server tried (address:port), or the upstream's name

LOGS = (
    LogPattern(NAME, "connect-failed", re.compile(r"connect\(\) failed \(\d+: [^)]*\) while connecting to upstream"
                                                  + _UPSTREAM), subject=1),
    LogPattern(NAME, "timed-out", re.compile(r"upstream timed out \(\d+: [^)]*\) while [a-z ]+upstream" + _UPSTREAM),
               subject=1),
    # max_fails reached: nginx takes the server out for fail_timeout (a [warn]).
    LogPattern(NAME, "server-down", re.compile(r"upstream server temporarily disabled while [a-z ]+upstream"
                                               + _UPSTREAM), subject=1),
    LogPattern(NAME, "backend-down", re.compile(r"no live upstreams while connecting to upstream" + _UPSTREAM),
               subject=1),
)

# (line, kind, subject): lines nginx 1.22.1 (Debian's nginx-light) wrote to its error log, one per
# pattern, in the order they came (a refused server, a slow one, then none left).
SAMPLES = (
    ('2026/12/05 08:42:59 [error] 9#9: *1 connect() failed (111: Connection refused) while connecting to upstream, '
     'client: 127.0.0.1, server: , request: "GET /health HTTP/1.0", upstream: "http://127.0.0.2:8081/health", '
     'host: "lb"', "connect-failed", "127.0.0.2:8081"),
    ('2026/12/05 08:42:59 [warn] 9#9: *1 upstream server temporarily disabled while connecting to upstream, client: '
     '127.0.0.1, server: , request: "GET /health HTTP/1.0", upstream: "http://127.0.0.2:8081/health", host: "lb"',
     "server-down", "127.0.0.2:8081"),
    ('2026/12/05 08:43:00 [error] 9#9: *1 upstream timed out (110: Connection timed out) while reading response '
     'header from upstream, client: 127.0.0.1, server: , request: "GET /health HTTP/1.0", upstream: '
     '"http://127.0.0.1:9999/health", host: "lb"', "timed-out", "127.0.0.1:9999"),
    ('2026/12/05 08:43:00 [error] 9#9: *5 no live upstreams while connecting to upstream, client: 127.0.0.1, '
     'server: , request: "GET /health HTTP/1.0", upstream: "http://dashboards/health", host: "lb"',
     "backend-down", "dashboards"),
)


ADAPTER: Adapter[NginxSpec] = Adapter(
    name=NAME, kind="balancer", spec=NginxSpec, label="nginx", ports=lambda spec: {"http": spec.port},
    status=status, effective=Effective(read=read_effective, describe=describe, part="balancer"), logs=LOGS,
    default_roles=lambda spec: {"http": [spec.balancer]})
