"""Heal actions: data in a ledger entry -> the calls that undo a fault.

Each action is idempotent, so healing twice (runner's finally, then `drill clean`) is harmless, and
each checks the container still carries the run's project label before touching it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from drills.errors import FaultError
from drills.faults import ledger, netns

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container

PROJECT_LABEL = "com.docker.compose.project"

Action = Callable[["docker.DockerClient", str, dict[str, Any]], None]


def owned_container(client: docker.DockerClient, project: str, name: str) -> Container | None:
    """The container, if it exists and belongs to `project`; never anything else."""
    import docker.errors

    try:
        container = client.containers.get(name)
    except docker.errors.NotFound:
        return None
    if container.labels.get(PROJECT_LABEL) != project:
        raise FaultError(f"refusing to touch {name}: it does not carry the label {PROJECT_LABEL}={project}")
    return container


def _start(client: docker.DockerClient, project: str, action: dict[str, Any]) -> None:
    c = owned_container(client, project, action["container"])
    if c is not None and c.status != "running":
        if c.status == "paused":
            c.unpause()
        else:
            c.start()


def _unpause(client: docker.DockerClient, project: str, action: dict[str, Any]) -> None:
    c = owned_container(client, project, action["container"])
    if c is not None:
        c.reload()
        if c.status == "paused":
            c.unpause()


def _iptables_remove(client: docker.DockerClient, project: str, action: dict[str, Any]) -> None:
    c = owned_container(client, project, action["container"])
    if c is None or netns.pid_of(c) is None:
        return  # the namespace, and our rules with it, are gone
    for rule in action["rules"]:
        # -D removes one copy; loop until none is left (a crash may have left a rule inserted twice).
        for _ in range(8):
            if netns.run(c, ["iptables", "-w", "-D", *rule], check=False).returncode != 0:
                break
    # Fail closed: a -D that failed for another reason than "no such rule" must not let the fault
    # be recorded as healed (seen once in CI: rules left in place, the ledger saying healed).
    tags = {rule[rule.index("--comment") + 1] for rule in action["rules"] if "--comment" in rule}
    listing = netns.run(c, ["iptables", "-w", "-S"], check=False)
    left = [line for line in listing.stdout.splitlines() if any(tag in line for tag in tags)]
    if listing.returncode != 0 or left:
        raise FaultError(f"{c.name}: partition rules still in place after removal: "
                         f"{'; '.join(left) or listing.stderr.strip()}",
                         hint="run `drill clean` to retry")


def _tc_remove(client: docker.DockerClient, project: str, action: dict[str, Any]) -> None:
    c = owned_container(client, project, action["container"])
    if c is None or netns.pid_of(c) is None:
        return
    netns.run(c, ["tc", "qdisc", "del", "dev", action["device"], "root"], check=False)


def _network_connect(client: docker.DockerClient, project: str, action: dict[str, Any]) -> None:
    import docker.errors

    c = owned_container(client, project, action["container"])
    if c is None:
        return
    c.reload()
    if action["network"] in c.attrs["NetworkSettings"]["Networks"]:
        return
    network = client.networks.get(action["network"])
    try:
        network.connect(c, ipv4_address=action.get("ip"), aliases=action.get("aliases"))
    except docker.errors.APIError as exc:
        if "already exists" not in str(exc):
            raise


ACTIONS: dict[str, Action] = {
    "start": _start,
    "unpause": _unpause,
    "iptables-remove": _iptables_remove,
    "tc-remove": _tc_remove,
    "network-connect": _network_connect,
}


Compose = Callable[..., None]


def heal_entry(client: docker.DockerClient, entry: ledger.Entry, compose: Compose | None = None) -> None:
    """Undo one fault. `compose-up` (respawn a destroyed node) needs the run's compose project; a
    cleanup without it skips the respawn, since it removes the whole project anyway."""
    errors = []
    for action in entry.heal:
        try:
            if action["action"] == "compose-up":
                if compose is not None:
                    compose("up", "-d", "--no-deps", *action["services"])
                continue
            ACTIONS[action["action"]](client, entry.project, action)
        except Exception as exc:  # keep healing the rest; report all at the end
            errors.append(f"{action['action']} {action.get('container', '')}: {exc}")
    if errors:
        raise FaultError(f"healing {entry.kind} ({entry.fault_id}) left problems: {'; '.join(errors)}",
                         hint="run `drill clean` to retry, or remove the project's containers by hand")
    ledger.record_healed(entry.project, entry.fault_id)


def heal_pending(client: docker.DockerClient, project: str, compose: Compose | None = None) -> list[str]:
    """Heal every pending fault of `project`, newest first; returns what was healed."""
    return heal_entries(client, ledger.pending(project), compose)


def heal_entries(client: docker.DockerClient, entries: list[ledger.Entry], compose: Compose | None = None) -> list[str]:
    """Heal these pending faults, newest first; returns what was healed."""
    healed = []
    for entry in reversed(entries):
        heal_entry(client, entry, compose)
        healed.append(f"{entry.kind} {entry.fault_id}")
    return healed
