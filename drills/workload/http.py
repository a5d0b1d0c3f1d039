"""http.dashboard and http.session: the dashboards as a user sees them, through the load balancer.

`HealthProbe` (http.dashboard): `GET /health` through the stack's balancer; ok on 200, fail otherwise (a probe
either served the user or did not: no `info`). Each probe is a new connection without cookies, so
the balancer spreads them over the instances, as it does new visitors.

`SessionProbe` (http.session): logs in once, then checks that `GET /whoami` still answers with
the same session. The dashboards keep sessions in memory (the policy: losing an instance loses
its sessions), so when the instance holding ours dies, the balancer sends us to the other one,
which does not know the session: that op is `fail` with error "session lost", and the next op
logs in again (a new session, a new baseline). An unavailable dashboard (5xx, refused) is `fail`
with that error, and does not end the session: it may still be there when the instance is back.

The dashboards (fixtures/images/app/drills_app/dashboard.py) implement `SessionContract`:
    POST /login  (form: user, password)  -> 303 and a `session` cookie (any user; the password is
                                             DRILLS_DEMO_PASSWORD, `drill` by default)
    GET  /whoami                          -> 200 {"user", "session", "instance"}; 401 without one
    GET  /health                          -> 200 (also HAProxy's health check)
"""

from __future__ import annotations

import http.cookiejar
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drills.core.errors import HarnessError, ScenarioError
from drills.workload.base import Result, error_text

if TYPE_CHECKING:
    from drills.components._stack_specs import Balancer

SESSION_LOST = "session lost"


@dataclass(frozen=True)
class HttpTarget:
    base_url: str  # http://127.0.0.1:<the balancer's port>
    timeout_s: float = 2.0

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path


def balancer(published: Callable[[str, int], tuple[str, int] | None], http: Balancer | None, signal: str,
             stack_file: Path) -> HttpTarget:
    """The instances as users reach them: the port of the balancer the stack file's `components:
    http:` names, as the host reaches it (`published`: `drills.workload.signal.SignalContext.published`)."""
    if http is None:
        raise ScenarioError(f"{signal}: the stack file {stack_file} names no balancer (components: http:)",
                            hint="add components: http: {adapter: ADAPTER, balancer: SERVICE, port: PORT, instances: "
                                 "ROLE, ...}; `drill schema --stack` lists the balancers' adapters and their fields")
    lb = published(http.balancer, http.port)
    if lb is None:
        raise HarnessError(f"{signal}: the balancer `{http.balancer}` publishes no port {http.port}",
                           hint=f"the stack file {stack_file} names it (components: http:); its Compose service must "
                                "publish that port")
    return HttpTarget(f"http://{lb[0]}:{lb[1]}")


@dataclass(frozen=True)
class SessionContract:
    login_path: str = "/login"
    whoami_path: str = "/whoami"
    user: str = "drill"
    password: str = "drill"
    session_field: str = "session"
    instance_field: str = "instance"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect to the login page is an answer to record (the session is gone), not to follow."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> urllib.request.Request | None:
        return None


def build_opener(jar: http.cookiejar.CookieJar | None = None) -> urllib.request.OpenerDirector:
    handlers: list[urllib.request.BaseHandler] = [_NoRedirect()]
    if jar is not None:
        handlers.append(urllib.request.HTTPCookieProcessor(jar))
    return urllib.request.build_opener(*handlers)


def request(opener: urllib.request.OpenerDirector, url: str, *, timeout_s: float,
            data: bytes | None = None) -> tuple[int, bytes]:
    """(status, body); HTTP error statuses are returned, network errors raised (OSError)."""
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    try:
        with opener.open(req, timeout=timeout_s) as resp:
            return int(resp.status), resp.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return int(exc.code), exc.read()


class HealthProbe:
    kind = "probe"

    def __init__(self, target: HttpTarget, path: str = "/health") -> None:
        self.target = target
        self.path = path
        self._opener = build_opener()

    def open(self) -> None:
        """Nothing to keep open: one connection per probe."""

    def invoke(self, seq: int) -> Result:
        try:
            status, _ = request(self._opener, self.target.url(self.path), timeout_s=self.target.timeout_s)
        except OSError as exc:  # URLError, refused, reset, timeout
            return Result.fail(seq, error_text(exc))
        return Result.ok(seq) if status == 200 else Result.fail(seq, f"HTTP {status}")

    def close(self) -> None:
        pass


def session_of(body: bytes, field: str) -> str | None:
    """The session id in a /whoami answer, or None when it names none."""
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    value = doc.get(field) if isinstance(doc, dict) else None
    return str(value) if value not in (None, "") else None


class SessionProbe:
    kind = "session"

    def __init__(self, target: HttpTarget, contract: SessionContract | None = None) -> None:
        self.target = target
        self.contract = contract or SessionContract()
        self._jar = http.cookiejar.CookieJar()
        self._opener = build_opener(self._jar)
        self._session: str | None = None  # the session we logged in with
        self._instance: str | None = None  # the dashboard instance that holds it

    def open(self) -> None:
        """Nothing to do: the first op logs in."""

    def _login(self) -> tuple[str, str | None]:
        """Log in afresh; the session id and the instance holding it, or OSError/ValueError."""
        self._jar.clear()
        c = self.contract
        form = urllib.parse.urlencode({"user": c.user, "password": c.password}).encode()
        status, _ = request(self._opener, self.target.url(c.login_path), timeout_s=self.target.timeout_s, data=form)
        if status not in (200, 204, 302, 303):
            raise ValueError(f"HTTP {status}")
        status, body = request(self._opener, self.target.url(c.whoami_path), timeout_s=self.target.timeout_s)
        session = session_of(body, c.session_field) if status == 200 else None
        if session is None:
            raise ValueError(f"no session after login (whoami: HTTP {status})")
        return session, session_of(body, c.instance_field)

    def invoke(self, seq: int) -> Result:
        # An op's value is the instance holding the session (seq when the dashboard does not say):
        # the sessions checker tells sessions lost with a dead instance from any other loss.
        if self._session is None:
            try:
                self._session, self._instance = self._login()
            except (OSError, ValueError) as exc:
                return Result.fail(seq, "login: " + error_text(exc))
            return Result.ok(self._instance or seq)
        try:
            status, body = request(self._opener, self.target.url(self.contract.whoami_path),
                                   timeout_s=self.target.timeout_s)
        except OSError as exc:
            return Result.fail(seq, error_text(exc))
        if status == 200:
            seen = session_of(body, self.contract.session_field)
            if seen == self._session:
                return Result.ok(self._instance or seq)
            self._session = None  # another session, or none: ours is gone
            return Result.fail(self._instance or seq, SESSION_LOST)
        if status in (301, 302, 303, 307, 401, 403):
            self._session = None
            return Result.fail(self._instance or seq, SESSION_LOST)
        return Result.fail(seq, f"HTTP {status}")

    def close(self) -> None:
        """Keeps the session: `close` only drops connections, and urllib keeps none."""


def wait_http(target: HttpTarget, path: str, timeout_s: float) -> bool:
    """True once `path` answers 200 (used by tests and warm-ups)."""
    opener = build_opener()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if request(opener, target.url(path), timeout_s=target.timeout_s)[0] == 200:
                return True
        except OSError:
            pass
        time.sleep(0.2)
    return False
