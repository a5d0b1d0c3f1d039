"""One node's dockerd, started in the node's network namespace and detached from us.

The daemon gets its own data root (under the state directory), exec root, socket, pidfile, config
file and containerd namespaces, so nothing of it is shared with the machine's main engine; it starts
its own containerd because no system containerd socket is given to it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from drills.cluster import state
from drills.cluster.commands import attempt, run
from drills.cluster.netns import NETNS_DIR
from drills.cluster.plan import RUN_DIR, NodePlan
from drills.core.errors import SetupError

START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 45.0
SHUTDOWN_TIMEOUT_S = 3


def log_file(node: NodePlan) -> Path:
    return state.cluster_dir() / f"{node.name}.log"


def config_file(node: NodePlan) -> Path:
    return state.cluster_dir() / f"{node.name}.json"


def docker(node: NodePlan, *args: str) -> list[str]:
    """The docker CLI aimed at `node`."""
    return ["docker", "-H", node.host, *args]


def answers(node: NodePlan, timeout_s: float = 10.0) -> bool:
    if not node.socket.exists():
        return False
    return attempt(docker(node, "version", "--format", "{{.Server.Version}}"), timeout_s=timeout_s).returncode == 0


def start(node: NodePlan, dockerd: str) -> None:
    """Start the node's dockerd (its own session, stdio to its log file); `wait` for its socket."""
    import subprocess

    RUN_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    data = state.data_root(node.name)
    data.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Its own (empty) config: the main engine's /etc/docker/daemon.json may set hosts or a data root.
    config_file(node).write_text("{}\n")
    args = [
        "nsenter", f"--net={NETNS_DIR / node.namespace}", dockerd,
        "--config-file", str(config_file(node)),
        "--data-root", str(data),
        "--exec-root", str(node.exec_root),
        "--pidfile", str(node.pidfile),
        "-H", node.host,
        "--containerd-namespace", f"drills-{node.name}",
        "--containerd-plugins-namespace", f"drills-{node.name}-plugins",
        # A test node going down need not wait 15 s for each container to stop by itself.
        "--shutdown-timeout", str(SHUTDOWN_TIMEOUT_S),
    ]
    with log_file(node).open("ab") as log:
        subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                         start_new_session=True, close_fds=True)


def wait(node: NodePlan, timeout_s: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not answers(node):
        if time.monotonic() > deadline:
            raise SetupError(f"the dockerd of {node.name} did not answer on {node.socket} within {timeout_s:.0f} s",
                             hint=f"see why in {log_file(node)}; then `drill cluster down` and `up` again")
        time.sleep(0.5)


def stop(nodes: Iterable[NodePlan]) -> list[str]:
    """Stop the nodes' dockerds side by side and whatever of them survives (containerd, shims, their
    containers), unmount what they mounted, remove their roots, sockets, pidfiles; what was removed."""
    targets = list(nodes)
    daemons = {node.name: processes_mentioning(_processes(), [str(node.socket)], programs=("dockerd", "nsenter"))
               for node in targets}
    for pids in daemons.values():
        for pid in pids:
            _signal(pid, signal.SIGTERM)  # dockerd stops its containers and containerd on SIGTERM
    every = [pid for pids in daemons.values() for pid in pids]
    if every and not _wait_gone(every, STOP_TIMEOUT_S):
        for pid in every:
            _signal(pid, signal.SIGKILL)
        _wait_gone(every, 10)
    removed = [f"dockerd of {name} (pid {', '.join(map(str, pids))})" for name, pids in daemons.items() if pids]
    for node in targets:
        removed += _remove_leftovers(node)
    return removed


def _remove_leftovers(node: NodePlan) -> list[str]:
    removed = []
    leftovers = with_descendants(_processes_and_parents(), processes_mentioning(_processes(), [str(node.exec_root)]))
    for pid in reversed(leftovers):
        _signal(pid, signal.SIGKILL)
    if leftovers:
        _wait_gone(leftovers, 10)
        removed.append(f"{len(leftovers)} leftover process(es) of {node.name} (containerd, shims, containers)")
    for root in (state.data_root(node.name), node.exec_root):
        if root.exists():
            _unmount_below(root)
            shutil.rmtree(root)
            removed.append(str(root))
    for path in (node.socket, node.pidfile, config_file(node), log_file(node)):
        if path.exists():
            path.unlink()
            removed.append(str(path))
    return removed


def processes_mentioning(cmdlines: Mapping[int, str], needles: Iterable[str],
                         programs: tuple[str, ...] = ()) -> list[int]:
    """Pids whose command line contains one of `needles` (paths unique to one node), and when
    `programs` are given, whose program is one of them (not a `docker -H` client of the node)."""
    wanted = list(needles)
    return sorted(pid for pid, cmd in cmdlines.items()
                  if pid != os.getpid() and any(n in cmd for n in wanted)
                  and (not programs or Path(cmd.split(" ", 1)[0]).name in programs))


def with_descendants(parents: Mapping[int, int], roots: Iterable[int]) -> list[int]:
    """`roots` and every process below them, parents before children."""
    ordered = list(dict.fromkeys(roots))
    seen = set(ordered)
    i = 0
    while i < len(ordered):
        for pid, ppid in sorted(parents.items()):
            if ppid == ordered[i] and pid not in seen:
                seen.add(pid)
                ordered.append(pid)
        i += 1
    return ordered


def mounts_below(mountinfo: str, root: Path) -> list[str]:
    """Mount points at or below `root` in /proc/self/mountinfo text, deepest first."""
    prefix = str(root).rstrip("/")
    found = []
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) < 5:
            continue
        point = fields[4].encode().decode("unicode_escape")  # mountinfo writes a space as \040
        if point == prefix or point.startswith(prefix + "/"):
            found.append(point)
    return sorted(set(found), key=lambda p: p.count("/"), reverse=True)


def _unmount_below(root: Path) -> None:
    for point in mounts_below(Path("/proc/self/mountinfo").read_text(), root):
        if attempt(["umount", point]).returncode != 0:
            run(["umount", "-l", point], hint=f"see `findmnt -R {root}`")
    # Fail closed: deleting through a mount would delete what it shows (a bind-mounted host path).
    remaining = mounts_below(Path("/proc/self/mountinfo").read_text(), root)
    if remaining:
        raise SetupError(f"{root} still has mounts ({', '.join(remaining[:3])}); it was not deleted",
                         hint=f"unmount them (`umount -l` each, see `findmnt -R {root}`), then `drill cluster down`")


def _processes() -> dict[int, str]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
    return found


def _processes_and_parents() -> dict[int, int]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            found[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])  # the name may hold spaces
    return found


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # it ended by itself meanwhile
        os.kill(pid, sig)


def _wait_gone(pids: Iterable[int], timeout_s: float) -> bool:
    from drills.core.local_state import pid_alive

    deadline = time.monotonic() + timeout_s
    while any(pid_alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True
