"""The `disk-full` step: a node's data volume fills up, until writes fail with "No space left on
device" (ENOSPC); the heal removes what filled it.

The space is taken by one file Drills creates at the top of each of the target's volumes
(`drills-disk-full-<fault id>`, outside the database's own directories), written by a short-lived
helper container that mounts the volume, so the target's image needs no tools and a stopped node
can be healed. The heal removes that file and nothing else: it refuses any other name.

A Docker volume is, by default, a directory on the host's own disk: filling it to ENOSPC would fill
the host, and every other container and the Docker engine with it. So the fault refuses a volume
with more free space than `max_fill` (1 GiB unless the step says otherwise) before anything is
written; give the node a size-limited volume (e.g. the local driver's `type: tmpfs` with `o:
size=256m`, or a volume on a filesystem of its own) to drill it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema

from drills.core.dockerlabels import PROJECT_LABEL, helper_labels, volumes_of
from drills.core.errors import FaultError
from drills.faults.actions import HealAction, HealContext
from drills.faults.base import Fault, FaultContext, FaultTarget, apply, helper_image, targets
from drills.faults.entry import Entry
from drills.faults.step import StepBase

if TYPE_CHECKING:
    import docker

FILE_PREFIX = "drills-disk-full-"
_OUR_FILE = re.compile(rf"{FILE_PREFIX}[A-Za-z0-9-]+")
MOUNT = "/data"  # where helpers mount the volume

# ---- sizes: 512MiB, 1GiB, 100MB, or a number of bytes -----------------------------------------

_SIZE = re.compile(r"(?P<number>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>B|KiB|MiB|GiB|TiB|kB|KB|MB|GB|TB)?")
_UNITS = {None: 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
          "kB": 10**3, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}
SIZE_PATTERN = r"^\s*[0-9]+(\.[0-9]+)?\s*(B|KiB|MiB|GiB|TiB|kB|KB|MB|GB|TB)?\s*$"


def parse_size(value: object) -> int:
    """`512MiB`, `1GiB`, `100MB`, or a number of bytes -> bytes (ASCII digits only)."""
    if isinstance(value, bool):
        raise ValueError(f"invalid size {value!r} (use e.g. 512MiB, 1GiB)")
    if isinstance(value, int):
        return value
    match = _SIZE.fullmatch(str(value).strip()) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"invalid size {str(value)[:60]!r} (use e.g. 512MiB, 1GiB)")
    return int(float(match["number"]) * _UNITS[match["unit"]])


Size = Annotated[int, BeforeValidator(parse_size), WithJsonSchema({
    "anyOf": [{"type": "integer", "minimum": 1}, {"type": "string", "pattern": SIZE_PATTERN}],
    "examples": ["256MiB", "1GiB"]})]


class DiskFull(StepBase):
    """Fill the target's data volumes until writes fail with ENOSPC, with a file Drills creates;
    the heal removes that file. Only volumes with at most `max_fill` free are filled: a volume on
    the host's own disk is refused (filling it would fill the host)."""

    fault: Literal["disk-full"]
    max_fill: Size = Field(1 << 30, gt=0, description="Refuse a volume with more free space than this, "
                                                      "e.g. 512MiB (default 1GiB).")


# ---- heal ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RemoveFill(HealAction):
    """Remove the file that filled a volume: only a file disk-full created, only on a volume of the
    project; a volume that is gone (the node was destroyed since) has nothing left to heal."""

    kind: ClassVar[str] = "disk-full-remove"
    volume: str
    file: str

    def heal(self, ctx: HealContext) -> None:
        import docker.errors

        if not _OUR_FILE.fullmatch(self.file):
            raise FaultError(f"refusing to remove {self.file!r} from {self.volume}: not a file disk-full creates")
        try:
            labels = _labels(ctx.client, self.volume)
        except docker.errors.NotFound:
            return
        if labels.get(PROJECT_LABEL) != ctx.project:
            raise FaultError(f"refusing to touch volume {self.volume}: it does not carry the label "
                             f"{PROJECT_LABEL}={ctx.project}")
        _helper(ctx.client, ctx.project, self.volume, ["rm", "-f", "--", f"{MOUNT}/{self.file}"])

    def describe(self) -> str:
        return f"{self.kind} {self.volume}/{self.file}"


# ---- inject ----------------------------------------------------------------------------------------

# $1: the file, $2: the most it may write. Preallocate what is free, then write zeros until the
# filesystem refuses (fallocate may fall short, or be unsupported), a few passes since the database
# may free space meanwhile; prints the bytes still free (for unprivileged writers) and the file's size.
FILL_SCRIPT = r"""
set -u
f="/data/$1"; cap="$2"
free() { set -- $(stat -f -c '%a %S' /data); echo $(( $1 * $2 )); }
size() { stat -c %s "$f" 2>/dev/null || echo 0; }
left=$(free)
if [ "$left" -gt "$cap" ]; then echo "$left bytes free, more than max_fill ($cap)" >&2; exit 3; fi
fallocate -l "$left" "$f" 2>/dev/null || :
for pass in 1 2 3; do
  left=$(free)
  [ "$left" -gt 0 ] || break
  [ "$(size)" -lt "$cap" ] || break
  dd if=/dev/zero of="$f" bs=4096 count=$(( (cap - $(size)) / 4096 + 1 )) oflag=append conv=notrunc \
    status=none 2>/dev/null || :
  sync
done
echo "$(free) $(size)"
"""


def _helper(client: docker.DockerClient, project: str, volume: str, argv: list[str]) -> str:
    """Run `argv` in a helper container with `volume` at /data, no network; its stdout."""
    import docker.errors

    try:
        out = client.containers.run(helper_image(client), argv, remove=True, network_mode="none", user="root",
                                    volumes={volume: {"bind": MOUNT, "mode": "rw"}},
                                    labels=helper_labels(project, "disk-full-helper"))
    except docker.errors.ContainerError as exc:
        stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else str(exc.stderr)
        raise FaultError(f"disk-full helper on {volume} exited {exc.exit_status}: {stderr.strip()[-400:]}") from None
    return out.decode(errors="replace") if isinstance(out, bytes) else str(out)


def _labels(client: docker.DockerClient, volume: str) -> dict[str, str]:
    return dict(client.volumes.get(volume).attrs.get("Labels") or {})


def free_bytes(stack: FaultTarget, volume: str) -> int:
    """Bytes an unprivileged process (the database) may still write on the volume."""
    blocks, size = _helper(stack.client, stack.project, volume, ["stat", "-f", "-c", "%a %S", MOUNT]).split()
    return int(blocks) * int(size)


def disk_full(step: DiskFull, ctx: FaultContext) -> Entry:
    stack = ctx.stack
    plan: list[str] = []
    for c in targets(stack, step.target):
        # The project's own volumes only: an image's anonymous volume (mongo's /data/configdb) is
        # not the node's data disk, and nothing without the project's label is ever touched.
        volumes = [v for v in volumes_of(c) if _labels(stack.client, v).get(PROJECT_LABEL) == stack.project]
        if not volumes:
            raise FaultError(f"disk-full of {c.name}: it has no data volume of {stack.project} to fill",
                             hint="target a database node: one whose data is on a volume of the project")
        plan += volumes
    for volume in plan:  # before the ledger entry: a refused fault leaves nothing to heal
        free = free_bytes(stack, volume)
        if free > step.max_fill:
            raise FaultError(f"disk-full: volume {volume} has {free / 2**30:.1f} GiB free, more than max_fill "
                             f"({step.max_fill / 2**30:.2f} GiB): it is most likely on the host's own disk, and "
                             f"filling it would fill the host",
                             hint="give the node a size-limited volume (local driver, type: tmpfs, o: size=256m), "
                                  "or raise max_fill if the volume really is a filesystem of its own")
    name = f"{FILE_PREFIX}{ctx.fault_id}"

    def do() -> None:
        for volume in plan:
            left, _size = _helper(stack.client, stack.project, volume,
                                  ["sh", "-c", FILL_SCRIPT, "fill", name, str(step.max_fill)]).split()
            if int(left) > 0:
                raise FaultError(f"disk-full: volume {volume} still has {left} bytes free after filling it")

    return apply(ctx, "disk-full", [RemoveFill(volume, name) for volume in plan], do)


DISK_FULL = Fault(DiskFull, disk_full, heals=(RemoveFill,))
KINDS = (DISK_FULL,)
