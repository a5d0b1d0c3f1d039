"""The Compose model of a stack (`docker compose config --format json`) made a file for `docker stack
deploy` (pure): one replica per service on the node the stack file places it, dnsrr endpoints,
attachable overlay networks.

    deployable = translate(model, placements(spec, roles, services, nodes))
    deployable.model   # the dict to write as the stack file `docker stack deploy -c` reads
    deployable.notes   # what was dropped or changed, to tell the user

What Swarm cannot do the way the stack asks is refused (StackError naming each service and what to
do), never silently changed: a drill of a stack that is not the one written proves nothing. What
Swarm does anyway (no `container_name`, no start order) is dropped with a note.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from drills.cluster.swarm import NODE_LABEL
from drills.core.dockerlabels import PROJECT_LABEL, SERVICE_LABEL
from drills.core.errors import StackError
from drills.stack.definition import RoleMap
from drills.stack.swarm_spec import SwarmSpec

STACK_FILE_VERSION = "3.8"  # the newest the stack loader of Docker 20.10 (Debian's) takes

# Service keys `docker stack deploy` takes and means the same as Compose does: copied as they are.
KEPT = frozenset({
    "image", "command", "entrypoint", "environment", "labels", "hostname", "user", "working_dir",
    "stop_grace_period", "stop_signal", "cap_add", "cap_drop", "sysctls", "tmpfs", "ulimits", "init",
    "extra_hosts", "logging", "dns", "dns_search", "domainname", "read_only", "stdin_open", "tty", "expose",
    "secrets", "configs",
})
# What Swarm decides itself: dropped, said in a note.
DROPPED = {
    "container_name": "Swarm names a task's container <stack>_<service>.<slot>.<task id>",
    "depends_on": "Swarm starts every service at once; Drills' readiness waits for the stack instead",
    "profiles": "the profiles were applied by `docker compose config` already",
    "pull_policy": "the nodes never pull: images are loaded onto them first",
    "ports": "no routing mesh here (no IPVS): Drills reaches each task by its address on the overlay network",
}
HEALTHCHECK_KEYS = ("test", "interval", "timeout", "retries", "start_period", "disable")
VOLUME_KEYS = ("type", "source", "target", "read_only")
RESTART = {"no": "none", "always": "any", "unless-stopped": "any", "on-failure": "on-failure"}


@dataclass(frozen=True)
class Deployable:
    model: dict[str, Any]
    notes: tuple[str, ...] = field(default_factory=tuple)


def placements(spec: SwarmSpec, roles: RoleMap, services: Sequence[str], nodes: Sequence[str]) -> dict[str, str]:
    """service -> node: the stack file's `placement:`, then each `spread:` group's services one per
    node in order (a group larger than the swarm wraps around). A node the swarm does not have, a
    service placed twice or not defined, and a group with no service are refused."""
    problems = []
    found: dict[str, str] = {}
    for service, node in spec.placement.items():
        if service not in services:
            problems.append(f"placement: {service} is no service of the stack ({', '.join(sorted(services))})")
        found[service] = node
    for group in spec.spread:
        members = roles.members(group, services)
        if not members:
            problems.append(f"spread: {group} is neither a role nor a group of services of the stack")
        for i, service in enumerate(members):
            if service in found:
                problems.append(f"spread: {group} places {service}, placed on {found[service]} already")
                continue
            found[service] = nodes[i % len(nodes)] if nodes else ""
    for service, node in found.items():
        if node not in nodes:
            problems.append(f"{service} is placed on {node or 'a node'}, but the swarm has "
                            f"{', '.join(nodes) or 'no node'}")
    if problems:
        raise StackError("the swarm: section does not fit this swarm: " + "; ".join(problems),
                         hint="fix swarm: in the stack file, or bring up enough nodes (`drill cluster up --nodes N`)")
    return found


def constraint(node: str) -> str:
    return f"node.labels.{NODE_LABEL} == {node}"


def translate(model: Mapping[str, Any], placed: Mapping[str, str], project: str) -> Deployable:
    """The stack-deploy model of `model` with each service of `placed` on its node; StackError
    listing every part Swarm cannot run as written. Each task's container carries the project's and
    its service's labels as a Compose container does, so what finds a run's containers by label
    (snapshots, faults, `drill clean`) finds them on every node the same way."""
    problems: list[str] = []
    notes: list[str] = []
    services = {name: _service(name, svc or {}, placed.get(name), problems, notes)
                for name, svc in sorted((model.get("services") or {}).items())}
    for name, svc in services.items():
        svc["labels"] = {**(svc.get("labels") or {}), PROJECT_LABEL: project, SERVICE_LABEL: name}
    out: dict[str, Any] = {"version": STACK_FILE_VERSION, "services": services}
    networks = {key: _network(key, net or {}, problems, notes) for key, net in (model.get("networks") or {}).items()}
    if networks:
        out["networks"] = networks
    for section in ("volumes", "secrets", "configs"):
        entries = {key: _top_level(section, key, entry or {}, problems) for key, entry in
                   (model.get(section) or {}).items()}
        if entries:
            out[section] = entries
    if problems:
        raise StackError("Swarm cannot run this stack as its Compose files say:\n  " + "\n  ".join(problems),
                         hint="change the services named (a Compose override under compose: files: for the swarm "
                              "stack), then deploy again")
    return Deployable(out, tuple(notes))


def _service(name: str, svc: Mapping[str, Any], node: str | None, problems: list[str],
             notes: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in svc.items():
        if value is None:
            continue
        if key in KEPT:
            out[key] = value
        elif key in DROPPED:
            if key != "depends_on" or _waits(value):
                notes.append(f"{name}: {key} dropped ({DROPPED[key]})")
        elif key == "build":
            if "image" not in svc:
                problems.append(f"{name}: build: without image: Swarm runs images only; name the image and build it "
                                "first, then load it onto the nodes (`drill cluster up --images IMAGE`)")
            else:
                notes.append(f"{name}: build dropped (the image {svc['image']} must be on every node: "
                             "`drill cluster up --images`)")
        elif key == "healthcheck":
            out[key] = {k: v for k, v in value.items() if k in HEALTHCHECK_KEYS}
        elif key == "volumes":
            out[key] = [_volume(name, v, problems) for v in value]
        elif key == "networks":
            out[key] = _service_networks(name, value, problems)
        elif key in ("restart", "deploy"):
            continue  # both go into deploy: below
        else:
            problems.append(f"{name}: {key} is not something `docker stack deploy` runs; remove it for the swarm stack")
    if "image" not in svc:
        problems.append(f"{name}: no image: Swarm needs one (the nodes run what was loaded onto them)")
    out["deploy"] = _deploy(name, svc, node, problems)
    return out


def _waits(depends_on: Any) -> bool:
    """Whether `depends_on` asks for more than a start order (a health or a completed one-shot)."""
    return isinstance(depends_on, Mapping) and any(
        (cond or {}).get("condition", "service_started") != "service_started" for cond in depends_on.values())


def _deploy(name: str, svc: Mapping[str, Any], node: str | None, problems: list[str]) -> dict[str, Any]:
    deploy = dict(svc.get("deploy") or {})
    if deploy.get("mode", "replicated") != "replicated" or int(deploy.get("replicas", 1)) != 1:
        problems.append(f"{name}: deploy asks for {deploy.get('replicas', deploy.get('mode'))} replicas; Drills drills "
                        "one task per service (name each replica as its own service, e.g. pg1, pg2)")
    if deploy.get("endpoint_mode", "dnsrr") != "dnsrr":
        problems.append(f"{name}: endpoint_mode {deploy['endpoint_mode']}: this kernel has no IPVS for virtual IPs; "
                        "use endpoint_mode: dnsrr")
    deploy.update(mode="replicated", replicas=1, endpoint_mode="dnsrr")
    if "restart_policy" not in deploy:
        restart = str(svc.get("restart") or "always")
        deploy["restart_policy"] = {"condition": RESTART.get(restart.partition(":")[0], "any")}
    if node is not None:
        placement = dict(deploy.get("placement") or {})
        placement["constraints"] = [*(placement.get("constraints") or []), constraint(node)]
        deploy["placement"] = placement
    return deploy


def _volume(service: str, volume: Any, problems: list[str]) -> Any:
    if not isinstance(volume, Mapping):
        return volume
    if volume.get("type") not in ("volume", "bind", "tmpfs"):
        problems.append(f"{service}: a {volume.get('type')} mount is not something Swarm runs")
    return {k: volume[k] for k in VOLUME_KEYS if k in volume}


def _service_networks(service: str, networks: Any, problems: list[str]) -> Any:
    if not isinstance(networks, Mapping):
        return networks
    out: dict[str, Any] = {}
    for key, given in networks.items():
        attach = dict(given or {})
        for fixed in ("ipv4_address", "ipv6_address"):
            if attach.get(fixed):
                problems.append(f"{service}: {fixed} on {key}: Swarm gives a task its address; reach it by name "
                                f"({service}, or tasks.{service}) instead")
        out[key] = {k: v for k, v in attach.items() if k == "aliases"} or None
    return out


def _network(key: str, net: Mapping[str, Any], problems: list[str], notes: list[str]) -> dict[str, Any]:
    if net.get("external"):
        return {"external": True, "name": net.get("name", key)}
    driver = net.get("driver") or "overlay"
    if driver not in ("overlay", "bridge"):
        problems.append(f"network {key}: driver {driver}; a swarm stack's networks are overlay networks")
    elif driver == "bridge" and net.get("driver"):
        notes.append(f"network {key}: driver bridge made overlay (a network across the nodes)")
    out: dict[str, Any] = {"driver": "overlay", "attachable": True}  # Drills' helper containers join it
    for kept in ("ipam", "internal", "labels", "driver_opts"):
        if net.get(kept):
            out[kept] = net[kept]
    return out


def _top_level(section: str, key: str, entry: Mapping[str, Any], problems: list[str]) -> dict[str, Any]:
    if entry.get("external"):
        return {"external": True, "name": entry.get("name", key)}
    if section in ("secrets", "configs") and "file" not in entry:
        problems.append(f"{section[:-1]} {key}: Swarm takes a {section[:-1]} from a file only")
    # Compose's `name:` is `<project>_<key>`; `docker stack deploy` gives the stack's namespace itself.
    return {k: v for k, v in entry.items() if k != "name"}
