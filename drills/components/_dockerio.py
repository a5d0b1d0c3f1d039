"""docker exec and archive helpers for the components' backups and restores: run a tool in a
container of the run, move files between the host and a container. Callers check that a container
carries the run's project label (`drills.core.dockerlabels.require_owned`) before they hand it here."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drills.core.errors import FaultError

if TYPE_CHECKING:
    from docker.models.containers import Container

ERR_FILE = "/tmp/drills-backup.err"


def run(container: Container, argv: Sequence[str], *, user: str,
        env: Mapping[str, str] | None = None) -> str:
    """Run `argv` in the container as `user` (a name or uid[:gid]: whom the tool must run as is the
    stack's, so every caller says it); its stdout, or FaultError with its stderr (or, when the
    container is not running, with what it said last)."""
    import docker.errors

    try:
        result = container.exec_run(list(argv), user=user, environment=dict(env or {}), demux=True)
    except docker.errors.APIError as exc:
        raise FaultError(f"cannot run {argv[0]} in {container.name}: {exc.explanation or exc}; "
                         f"its last output: {_last_words(container)}") from exc
    raw: Any = result.output
    out, err = raw if isinstance(raw, tuple) else (raw, b"")
    out_text = out.decode(errors="replace") if isinstance(out, bytes) else ""
    if result.exit_code != 0:
        err_text = err.decode(errors="replace") if isinstance(err, bytes) else ""
        text = (err_text or out_text).strip()
        raise FaultError(f"{argv[0]} in {container.name} exited {result.exit_code}: {text[-800:]}")
    return out_text


def _last_words(container: Container, lines: int = 5) -> str:
    try:
        said = container.logs(tail=lines).decode(errors="replace").strip()
    except Exception as exc:  # the explanation must never hide the error it explains
        return f"(unreadable: {exc})"
    return " | ".join(said.splitlines()) or "(nothing)"


def stream_to_file(container: Container, argv: Sequence[str], dest: Path, *, user: str,
                   env: Mapping[str, str] | None = None) -> int:
    """Run `argv` in the container, its stdout written to `dest` on the host; the bytes written.

    stderr goes to a file in the container and is shown when the command fails."""
    client = container.client
    if client is None:
        raise FaultError(f"{container.name}: no Docker client")
    api = client.api
    wrapped = ["sh", "-c", f'"$@" 2>{ERR_FILE}', "sh", *argv]
    exec_id = api.exec_create(container.id, wrapped, stdout=True, stderr=False, user=user,
                              environment=dict(env or {}))["Id"]
    size = 0
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("wb") as fh:
        for chunk in api.exec_start(exec_id, stream=True):
            fh.write(chunk)
            size += len(chunk)
    code = api.exec_inspect(exec_id).get("ExitCode")
    if code != 0:
        err = container.exec_run(["cat", ERR_FILE], user=user).output
        text = err.decode(errors="replace").strip() if isinstance(err, bytes) else ""
        dest.unlink(missing_ok=True)
        raise FaultError(f"{argv[0]} in {container.name} exited {code}: {text[-800:]}")
    return size


def fetch_file(container: Container, path: str, dest: Path) -> int:
    """Copy one file out of the container to `dest` on the host; its size."""
    stream, _stat = container.get_archive(path)
    buf = io.BytesIO(b"".join(stream))
    with tarfile.open(fileobj=buf) as tar:
        member = next((m for m in tar.getmembers() if m.isfile()), None)
        src = tar.extractfile(member) if member is not None else None
        if src is None:
            raise FaultError(f"{path} in {container.name} is not a file")
        dest.parent.mkdir(parents=True, exist_ok=True)
        data = src.read()
    dest.write_bytes(data)
    return len(data)


def put_file(container: Container, src: Path, directory: str, name: str, *, uid: int = 0, gid: int = 0) -> None:
    """Copy a host file into `directory` of the container as `name` (mode 0600, owned by uid:gid)."""
    data = src.read_bytes()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.uid, info.gid = len(data), 0o600, uid, gid
        tar.addfile(info, io.BytesIO(data))
    if not container.put_archive(directory, buf.getvalue()):
        raise FaultError(f"could not copy {src.name} into {container.name}:{directory}")


def put_tar(container: Container, tar_path: Path, directory: str) -> None:
    """Extract a tar file from the host into `directory` of the container (owners and modes kept)."""
    with tar_path.open("rb") as fh:
        if not container.put_archive(directory, fh.read()):
            raise FaultError(f"could not extract {tar_path.name} into {container.name}:{directory}")


def env_of(container: Container, name: str, default: str = "") -> str:
    for item in container.attrs.get("Config", {}).get("Env") or []:
        key, _, value = str(item).partition("=")
        if key == name:
            return value
    return default
