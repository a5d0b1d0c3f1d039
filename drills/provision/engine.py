"""The Docker engine: find it, install it where we may, start it, wait for it.

Drills uses whatever engine answers (Docker Desktop, a system service, a rootless daemon). Only on
Debian/Ubuntu as root, where none is installed, does it install Debian's `docker.io`; only where
the daemon is installed but not running does it start it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from drills.core.errors import EngineUnavailable, SetupError
from drills.provision.progress import Reporter

if TYPE_CHECKING:
    import docker

DAEMON_LOG = Path(os.environ.get("DRILLS_DOCKERD_LOG", "/var/log/drills/dockerd.log"))
START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class EngineInfo:
    version: str
    api_version: str
    os: str


def client(timeout: int = 30) -> docker.DockerClient:
    """A client for the engine that answers, or EngineUnavailable with what to do."""
    import docker
    import docker.errors

    try:
        c = docker.from_env(timeout=timeout)
        c.ping()
    except docker.errors.DockerException as exc:
        raise EngineUnavailable(
            f"no Docker engine answers ({_short(exc)})",
            hint="run `drill setup` (installs and starts one on Debian/Ubuntu as root), "
            "or start your Docker engine",
        ) from exc
    return c


def info() -> EngineInfo | None:
    """Version facts of the running engine, or None when none answers."""
    try:
        c = client(timeout=5)
    except EngineUnavailable:
        return None
    v = c.version()
    return EngineInfo(
        version=str(v.get("Version", "?")),
        api_version=str(v.get("ApiVersion", "?")),
        os=str(v.get("Os", "?")),
    )


def dockerd_path() -> str | None:
    return shutil.which("dockerd") or next(
        (p for p in ("/usr/sbin/dockerd", "/usr/bin/dockerd") if Path(p).exists()), None
    )


def is_debian_like() -> bool:
    try:
        text = Path("/etc/os-release").read_text()
    except OSError:
        return False
    return any(word in text for word in ("ID=debian", "ID=ubuntu", "ID_LIKE=debian", 'ID_LIKE="debian'))


def apt_install(packages: list[str], reporter: Reporter) -> None:
    """Install Debian packages (root on Debian/Ubuntu only), with the log kept for the user."""
    if os.geteuid() != 0 or not is_debian_like():
        raise SetupError(
            f"missing packages: {' '.join(packages)}",
            hint=f"install them with your OS package manager (Debian/Ubuntu: apt-get install -y {' '.join(packages)})",
        )
    log = DAEMON_LOG.parent / "apt.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    reporter.step(f"installing {' '.join(packages)} from the OS packages (log: {log})")
    with log.open("ab") as out:
        for cmd in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", *packages]):
            rc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
            if rc.returncode != 0:
                raise SetupError(f"`{' '.join(cmd)}` failed (exit {rc.returncode})", hint=f"see {log}")


def _systemd_running() -> bool:
    return Path("/run/systemd/system").is_dir()


def start_daemon(reporter: Reporter) -> None:
    """Start dockerd detached from our stdio (a pipe reader must never wait on the daemon)."""
    if _systemd_running() and shutil.which("systemctl"):
        reporter.step("starting docker with systemctl")
        subprocess.run(["systemctl", "start", "docker"], check=False, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return
    path = dockerd_path()
    if path is None:
        raise SetupError("dockerd is not installed", hint="run `drill setup` as root on Debian/Ubuntu")
    if os.geteuid() != 0:
        raise SetupError("the Docker daemon is not running", hint="start it as root: sudo drill setup")
    DAEMON_LOG.parent.mkdir(parents=True, exist_ok=True)
    reporter.step(f"starting dockerd in the background (log: {DAEMON_LOG})")
    with DAEMON_LOG.open("ab") as log:
        subprocess.Popen(
            [path],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )


def wait_for_engine(timeout_s: float = START_TIMEOUT_S) -> EngineInfo:
    deadline = time.monotonic() + timeout_s
    while True:
        found = info()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise EngineUnavailable(
                f"the Docker daemon did not answer within {timeout_s:.0f} s",
                hint=f"look at {DAEMON_LOG} for why it did not start",
            )
        time.sleep(0.5)


def ensure_engine(reporter: Reporter) -> EngineInfo:
    """A running engine, installing and starting one where that is ours to do."""
    found = info()
    if found is not None:
        reporter.ok(f"Docker engine {found.version} (API {found.api_version}) answers")
        return found
    if dockerd_path() is None:
        apt_install(["docker.io", "iptables"], reporter)
    start_daemon(reporter)
    found = wait_for_engine()
    reporter.ok(f"Docker engine {found.version} (API {found.api_version}) started")
    return found


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
