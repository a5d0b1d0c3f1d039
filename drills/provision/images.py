"""Stack images, built from `fixtures/images/<name>/` and tagged by a hash of their inputs.

An image's tag is `drills/<name>:<hash>` where the hash covers every file of its build context,
the base image's ID and the build arguments: an unchanged fixture is never rebuilt, a changed one
always is. Compose files receive the tags as `DRILLS_IMAGE_<NAME>` variables.

A context holding `requirements.txt` gets a wheelhouse (`wheels/`) downloaded on the host first:
pip inside a fresh image cannot verify TLS where the host trusts a local CA, and air-gapped sites
need the same path anyway. The file is the whole list, pinned: what it names is downloaded without
its dependencies (`--no-deps`), so an image can take one package from PyPI over its Debian packages
(Patroni over Debian's, whose dependencies Debian already installed; one of them, ydiff < 1.5, has
no wheel to download).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import platform
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from drills.core.dockerlabels import IMAGE_LABEL, MANAGED_LABEL
from drills.core.errors import SetupError
from drills.provision import base_image
from drills.provision.progress import Reporter, SilentReporter

if TYPE_CHECKING:
    import docker

REPOSITORY_PREFIX = "drills/"
IGNORED_PARTS = {"wheels", "__pycache__", ".mypy_cache", ".ruff_cache"}
IGNORED_SUFFIXES = {".pyc"}
WHEEL_STAMP = ".requirements.sha256"


def project_root() -> Path:
    """Where `fixtures/` and `docker-compose.ha.yml` live."""
    env = os.environ.get("DRILLS_HOME")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parents[2]
    if (here / "fixtures").is_dir():
        return here
    return Path.cwd()


def images_dir() -> Path:
    return project_root() / "fixtures" / "images"


@dataclass(frozen=True)
class ImageSpec:
    name: str
    context: Path

    @property
    def env_var(self) -> str:
        return "DRILLS_IMAGE_" + self.name.upper().replace("-", "_")

    def tag(self, inputs_hash: str) -> str:
        return f"{REPOSITORY_PREFIX}{self.name}:{inputs_hash}"


def discover(root: Path | None = None) -> list[ImageSpec]:
    base = root if root is not None else images_dir()
    if not base.is_dir():
        return []
    return [ImageSpec(d.name, d) for d in sorted(base.iterdir()) if (d / "Dockerfile").is_file()]


def context_files(context: Path) -> list[Path]:
    files = []
    for path in sorted(context.rglob("*")):
        rel = path.relative_to(context)
        if any(part in IGNORED_PARTS for part in rel.parts) or path.suffix in IGNORED_SUFFIXES:
            continue
        if path.is_file():
            files.append(path)
    return files


def inputs_hash(spec: ImageSpec, base_id: str, build_args: dict[str, str]) -> str:
    h = hashlib.sha256()
    h.update(f"base={base_id}\n".encode())
    for key in sorted(build_args):
        h.update(f"arg {key}={build_args[key]}\n".encode())
    for path in context_files(spec.context):
        rel = path.relative_to(spec.context).as_posix()
        executable = os.access(path, os.X_OK)
        h.update(f"file {rel} {int(executable)} {path.stat().st_size}\n".encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class PlannedImage:
    spec: ImageSpec
    tag: str
    present: bool


def plan(client: docker.DockerClient, base: str, specs: list[ImageSpec] | None = None) -> list[PlannedImage]:
    base_id = str(client.images.get(base).id)
    args = {"BASE_IMAGE": base}
    planned = []
    for spec in specs if specs is not None else discover():
        tag = spec.tag(inputs_hash(spec, base_id, args))
        planned.append(PlannedImage(spec, tag, base_image.present(client, tag)))
    return planned


def ensure_wheelhouse(context: Path, reporter: Reporter) -> None:
    requirements = context / "requirements.txt"
    if not requirements.is_file():
        return
    wheels = context / "wheels"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    stamp = wheels / WHEEL_STAMP
    if stamp.is_file() and stamp.read_text().strip() == digest:
        return
    if wheels.is_dir():  # a wheel of an earlier requirements.txt must not be installed in its place
        for old in wheels.glob("*.whl"):
            old.unlink()
    wheels.mkdir(exist_ok=True)
    machine = {"amd64": "x86_64", "arm64": "aarch64"}.get(platform.machine().lower(), platform.machine())
    reporter.step(f"downloading wheels for {context.name} into {wheels}")
    cmd = [
        sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
        "-r", str(requirements), "-d", str(wheels), "--only-binary=:all:", "--no-deps",
        "--python-version", "3.11", "--implementation", "cp",
        "--platform", f"manylinux2014_{machine}", "--platform", f"manylinux_2_28_{machine}",
        "--platform", f"manylinux_2_17_{machine}",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise SetupError(
            f"pip download for {context.name} failed: {done.stderr.strip()[-500:]}",
            hint="check that PyPI (or your index, PIP_INDEX_URL) is reachable, then run `drill setup` again",
        )
    stamp.write_text(digest + "\n")


def build_one(client: docker.DockerClient, image: PlannedImage, base: str, reporter: Reporter,
              log_dir: Path) -> None:
    ensure_wheelhouse(image.spec.context, reporter)
    log_path = log_dir / f"build-{image.spec.name}.log"
    reporter.step(f"building {image.tag} (log: {log_path})")
    last_error = None
    with log_path.open("w") as log:
        for chunk in client.api.build(
            path=str(image.spec.context), tag=image.tag, buildargs={"BASE_IMAGE": base},
            network_mode="host", rm=True, forcerm=True, decode=True,
            labels={MANAGED_LABEL: "true", IMAGE_LABEL: image.spec.name},
        ):
            if "stream" in chunk:
                text = str(chunk["stream"])
                log.write(text)
                if text.startswith("Step "):
                    reporter.detail(f"{image.spec.name}: {text.strip()[:100]}")
            if "error" in chunk:
                last_error = str(chunk["error"]).strip()
                log.write(last_error + "\n")
    if last_error is not None:
        raise SetupError(f"building {image.spec.name} failed: {last_error[-400:]}", hint=f"see {log_path}")
    repo, _, _ = image.tag.rpartition(":")
    client.images.get(image.tag).tag(repo, "latest")
    reporter.ok(f"built {image.tag}")


def ensure_images(client: docker.DockerClient | None = None, reporter: Reporter | None = None,
                  base: str | None = None, specs: list[ImageSpec] | None = None) -> dict[str, str]:
    """Build what is missing; return the `DRILLS_IMAGE_*` variables for Compose."""
    from drills.provision import engine

    reporter = reporter or SilentReporter()
    client = client or engine.client()
    base = base or base_image.ensure(client, reporter)
    planned = plan(client, base, specs)
    missing = [p for p in planned if not p.present]
    log_dir = cache_dir()
    if missing:
        errors: list[BaseException] = []
        lock = threading.Lock()

        def run(p: PlannedImage) -> None:
            try:
                build_one(client, p, base, reporter, log_dir)
            except BaseException as exc:
                with lock:
                    errors.append(exc)

        # Builds are mostly apt downloads and unpacking: a little overlap pays, more thrashes 2 cores.
        with ThreadPoolExecutor(max_workers=3) as pool:
            list(pool.map(run, missing))
        if errors:
            raise errors[0]
    for p in planned:
        if p.present:
            reporter.ok(f"image {p.tag} up to date")
    if missing:
        prune_stale(client, planned)
    return {p.spec.env_var: p.tag for p in planned}


def prune_stale(client: docker.DockerClient, planned: list[PlannedImage]) -> None:
    """Drop images built for older fixtures, so disk use does not grow with every change.
    An image a container still uses is kept (removal without force fails, and that is fine)."""
    import docker.errors

    for p in planned:
        repo = p.tag.rpartition(":")[0]
        for image in client.images.list(name=repo):
            if any(t in (p.tag, f"{repo}:latest") for t in image.tags):
                continue
            for tag in image.tags:
                with contextlib.suppress(docker.errors.APIError):
                    client.images.remove(tag, noprune=False)
    with contextlib.suppress(docker.errors.APIError):
        client.images.prune(filters={"dangling": True, "label": f"{MANAGED_LABEL}=true"})


def image_env(client: docker.DockerClient) -> dict[str, str]:
    """The `DRILLS_IMAGE_*` variables for images already built; SetupError when one is missing."""
    base = base_image.resolve(client)
    if base is None:
        raise SetupError("no base image", hint="run `drill setup`")
    planned = plan(client, base)
    missing = [p.spec.name for p in planned if not p.present]
    if missing:
        raise SetupError(f"stack images not built for the current fixtures: {', '.join(missing)}",
                         hint="run `drill setup`")
    return {p.spec.env_var: p.tag for p in planned}


def cache_dir() -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "drills"
    root.mkdir(parents=True, exist_ok=True)
    return root
