"""The base image every stack image is built FROM.

Users with a registry get `debian:bookworm-slim` pulled. Where no registry answers (air-gapped
sites, this CI), an equivalent minimal Debian is built with debootstrap from the machine's own apt
mirror and imported as `drills/base:bookworm`; builds then use it transparently. It is also tagged
`debian:bookworm-slim` where that name is not here, so a stack of yours whose Dockerfiles say
`FROM debian:bookworm-slim` builds offline too (stacks/examples/debian-patroni does).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from drills.core.errors import SetupError
from drills.provision.engine import apt_install
from drills.provision.progress import Reporter

if TYPE_CHECKING:
    import docker

UPSTREAM = os.environ.get("DRILLS_BASE_IMAGE", "debian:bookworm-slim")
LOCAL = "drills/base:bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"


def present(client: docker.DockerClient, name: str) -> bool:
    import docker.errors

    try:
        client.images.get(name)
    except docker.errors.ImageNotFound:
        return False
    except docker.errors.APIError as exc:
        if exc.status_code == 400:  # not a name the engine can parse (e.g. a mistyped DRILLS_MONGO_IMAGE)
            raise SetupError(f"{name!r} is not a valid image name ({exc.explanation})",
                             hint=name_hint("registry.example/team/image:1")) from exc
        raise
    return True


def name_hint(example: str) -> str:
    """How to write an image's name, with an example (a pulled image's own, where one is meant)."""
    return f"write it as [registry/]repository[:tag], e.g. {example}"


def resolve(client: docker.DockerClient) -> str | None:
    """The base image to build FROM, if one is already here (no network). The local build first:
    where both are here, the upstream name is usually its alias (`alias_upstream`), and the reference
    images' cache keys name the base they were built from."""
    for name in (LOCAL, UPSTREAM):
        if present(client, name):
            return name
    return None


def apt_mirror(sources: list[Path] | None = None) -> str:
    """The Debian mirror this machine already uses (the one it can reach)."""
    if sources is None:
        sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in sources:
        try:
            text = path.read_text()
        except OSError:
            continue
        for match in re.finditer(r"(?:^URIs:\s*|^deb\s+(?:\[[^\]]*\]\s+)?)(\S+/debian)/?\s", text, re.M):
            return match.group(1)
    return DEFAULT_MIRROR


def alias_upstream(client: docker.DockerClient, reporter: Reporter) -> None:
    """Tag the local Debian as `debian:bookworm-slim` where no such image is here (an air-gapped
    machine that never pulled it), so stacks that build FROM the upstream name build here too."""
    if UPSTREAM == "debian:bookworm-slim" and present(client, LOCAL) and not present(client, UPSTREAM):
        client.images.get(LOCAL).tag("debian", "bookworm-slim")
        reporter.detail(f"{LOCAL} tagged {UPSTREAM}: stacks whose Dockerfiles build FROM it build offline")


def ensure(client: docker.DockerClient, reporter: Reporter) -> str:
    found = resolve(client)
    if found is not None:
        if found == LOCAL:
            alias_upstream(client, reporter)
        reporter.ok(f"base image {found}")
        return found
    import docker.errors

    reporter.step(f"pulling {UPSTREAM}")
    try:
        client.images.pull(UPSTREAM)
        reporter.ok(f"base image {UPSTREAM} pulled")
        return UPSTREAM
    except docker.errors.APIError as exc:
        reporter.detail(f"no registry answers ({str(exc).splitlines()[0][:120]}); building {LOCAL} locally")
    build_local(client, reporter)
    alias_upstream(client, reporter)
    return LOCAL


def build_local(client: docker.DockerClient, reporter: Reporter) -> None:
    if shutil.which("debootstrap") is None:
        apt_install(["debootstrap"], reporter)
    mirror = apt_mirror()
    with tempfile.TemporaryDirectory(prefix="drills-rootfs-") as rootfs:
        reporter.step(f"debootstrap --variant=minbase bookworm from {mirror} (about 30 s)")
        log = Path(tempfile.gettempdir()) / "drills-debootstrap.log"
        with log.open("wb") as out:
            rc = subprocess.run(
                ["debootstrap", "--variant=minbase", "bookworm", rootfs, mirror],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            ).returncode
        if rc != 0:
            raise SetupError(f"debootstrap failed (exit {rc})", hint=f"see {log}")
        # Keep the image small and apt-friendly like the official slim image.
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            subprocess.run(["find", f"{rootfs}/{cache}", "-type", "f", "-delete"], check=False)
        reporter.step(f"importing the root file system as {LOCAL}")
        tar = subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
        assert tar.stdout is not None
        try:
            client.api.import_image_from_data(tar.stdout, repository="drills/base", tag="bookworm")
        finally:
            tar.stdout.close()
            tar.wait()
    if not present(client, LOCAL):
        raise SetupError(f"importing {LOCAL} failed", hint="run `drill setup` again; see the daemon log")
    reporter.ok(f"base image {LOCAL} built locally")
