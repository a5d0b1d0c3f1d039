"""`drill cluster up`, `status` and `down`: the steps of the other modules in order, with progress."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from drills.cluster import daemon, images, netns, state, swarm
from drills.cluster.commands import attempt, require, run
from drills.cluster.plan import (
    BRIDGE,
    DEFAULT_POOL,
    DEFAULT_SUBNET,
    NAMESPACE_PREFIX,
    RUN_DIR,
    ClusterPlan,
    NodePlan,
    node_for,
    plan,
    routes_in_use,
)
from drills.cluster.state import Kind, Record, Resource, note
from drills.core.errors import SetupError
from drills.provision.progress import Reporter

TOOLS = ("ip", "iptables", "nsenter", "docker", "umount")


def up(count: int, references: list[str], subnet: str | None, reporter: Reporter) -> ClusterPlan:
    """Build the cluster, or complete it: every step checks what is there first."""
    import os

    from drills.provision.engine import dockerd_path

    if os.geteuid() != 0:
        raise SetupError("`drill cluster up` creates namespaces, links and daemons: it needs root",
                         hint="run it as root (sudo drill cluster up)")
    require(*TOOLS)
    dockerd = dockerd_path()
    if dockerd is None:
        raise SetupError("dockerd is not installed", hint="run `drill setup` (installs docker.io on Debian/Ubuntu)")
    with state.exclusive():
        record = state.load()
        if record is not None and subnet is not None and subnet != record.subnet:
            raise SetupError(f"the cluster here is on {record.subnet}, not {subnet}",
                             hint="`drill cluster down` first to build it on another subnet")
        cluster = plan(count, _networks_in_use(), subnet=record.subnet if record else (subnet or DEFAULT_SUBNET),
                       pool=record.pool if record else DEFAULT_POOL)
        if record is None:
            record = Record(subnet=cluster.subnet, pool=cluster.pool)
            state.save(record)
        reporter.step(f"cluster of {count} node(s) on {cluster.subnet} (bridge {cluster.bridge}, no route out)")
        _wire(record, cluster, reporter)
        _start(record, cluster, dockerd, reporter)
        _join(cluster, reporter)
        _load(record, cluster, references, reporter)
        extra = [i for i in record.nodes() if i > count]
        if extra:
            reporter.warn(f"node(s) {', '.join(f'node-{i}' for i in extra)} are there beyond --nodes {count}; "
                          "kept (`drill cluster down` removes the whole cluster)")
    return cluster


def planned(cluster: ClusterPlan) -> list[Resource]:
    """What `up` records for `cluster`, in the order it records it (the unit tests crash it after each)."""
    return state.planned([(n.namespace, n.veth, n.name) for n in cluster.nodes], cluster.bridge,
                         " ".join(netns.rule_spec(cluster.bridge)))


def _wire(record: Record, cluster: ClusterPlan, reporter: Reporter) -> None:
    note(record, Resource(Kind.BRIDGE, cluster.bridge))
    netns.create_bridge(cluster.bridge)
    note(record, Resource(Kind.RULE, " ".join(netns.rule_spec(cluster.bridge))))
    netns.create_rule(cluster.bridge)
    for node in cluster.nodes:
        note(record, Resource(Kind.NETNS, node.namespace))
        netns.create_namespace(node)
        note(record, Resource(Kind.VETH, node.veth))
        netns.create_veth(node, cluster.bridge)
    reporter.ok(f"bridge {cluster.bridge}, {len(cluster.nodes)} namespace(s) and veth pair(s), "
                "FORWARD rule tagged drills-cluster")


def _start(record: Record, cluster: ClusterPlan, dockerd: str, reporter: Reporter) -> None:
    started = []
    for node in cluster.nodes:
        if daemon.answers(node):
            reporter.ok(f"{node.name}: dockerd answers on {node.socket}")
            continue
        note(record, Resource(Kind.DAEMON, node.name))
        daemon.start(node, dockerd)  # all started before waiting: they boot side by side
        started.append(node)
        reporter.step(f"{node.name}: starting dockerd in {node.namespace} (log: {daemon.log_file(node)})")
    for node in started:
        t0 = time.monotonic()
        daemon.wait(node)
        reporter.ok(f"{node.name}: dockerd answers on {node.socket} ({time.monotonic() - t0:.1f} s)")


def _join(cluster: ClusterPlan, reporter: Reporter) -> None:
    manager, created = swarm.ensure_manager(cluster)
    reporter.ok(f"{cluster.manager.name}: swarm manager at {cluster.manager.address} "
                f"({'initialised' if created else 'already'}, overlay pool {cluster.pool})")
    ids = {cluster.manager.name: manager.node_id}
    for node in cluster.nodes[1:]:
        joined = swarm.ensure_member(cluster, node, manager.cluster_id)
        found = swarm.local(node)
        if found is None or found.state != "active":
            raise SetupError(f"{node.name} did not become an active swarm node",
                             hint=f"see {daemon.log_file(node)}; then `drill cluster down` and `up`")
        ids[node.name] = found.node_id
        reporter.ok(f"{node.name}: {'joined' if joined else 'in'} the swarm as a worker")
    labelled = swarm.labels(cluster.manager)
    for node in cluster.nodes:
        if labelled.get(ids[node.name]) != node.name:
            swarm.label(cluster.manager, node, ids[node.name])


def _load(record: Record, cluster: ClusterPlan, references: list[str], reporter: Reporter) -> None:
    for reference in references:
        image_id = images.main_engine_id(reference)
        for node in cluster.nodes:
            t0 = time.monotonic()
            if images.ensure(node, reference, image_id):
                reporter.ok(f"{node.name}: loaded {reference} ({time.monotonic() - t0:.1f} s)")
            else:
                reporter.ok(f"{node.name}: has {reference} already")
        if reference not in record.images:
            record.images.append(reference)
            state.save(record)


def _networks_in_use() -> list[str]:
    """The host's routes and the main engine's networks (read only): the subnets to stay clear of."""
    found = routes_in_use(run(["ip", "-4", "route"], hint="is iproute2 installed?"))
    ids = attempt(["docker", "network", "ls", "-q"], timeout_s=30).stdout.split()
    if ids:
        listing = attempt(["docker", "network", "inspect", "--format", "{{json .IPAM.Config}}", *ids], timeout_s=30)
        for line in listing.stdout.splitlines():
            for config in json.loads(line) or []:
                if config.get("Subnet") and ":" not in config["Subnet"]:
                    found.append(config["Subnet"])
    return found


@dataclass
class NodeStatus:
    node: NodePlan
    daemon_up: bool
    swarm_state: str
    role: str
    images: list[str] = field(default_factory=list)


def status() -> tuple[Record | None, list[NodeStatus]]:
    record = state.load()
    if record is None:
        return None, []
    nodes = [node_for(i, record.subnet) for i in record.nodes()]
    manager_view = {n.node_id: n for n in swarm.node_list(nodes[0])} if nodes else {}
    found = []
    for node in nodes:
        up_now = daemon.answers(node)
        local = swarm.local(node) if up_now else None
        seen = manager_view.get(local.node_id) if local else None
        role = seen.role if seen else ("manager" if local and local.manager else "-")
        swarm_state = f"{local.state}" + (f", {seen.status.lower()}" if seen else "") if local else "-"
        found.append(NodeStatus(node, up_now, swarm_state, role,
                                images.present(node, record.images) if up_now else []))
    return record, found


def down(reporter: Reporter) -> list[str]:
    """Remove the recorded cluster and anything by the cluster's names; what was removed."""
    import os

    if os.geteuid() != 0:
        raise SetupError("`drill cluster down` removes namespaces, links and daemons: it needs root",
                         hint="run it as root (sudo drill cluster down)")
    require(*TOOLS)
    removed: list[str] = []
    with state.exclusive():
        try:
            record = state.load()
        except SetupError as exc:
            reporter.warn(f"{exc}; removing by the cluster's names")
            record = None
        subnet = record.subnet if record else DEFAULT_SUBNET
        targets = state.with_leftovers(record.resources if record else [],
                                       namespaces=netns.our_namespaces(), links=netns.observed_links(),
                                       nodes=_observed_nodes(), bridge=BRIDGE)
        nodes = [node_for(int(r.name.rsplit("-", 1)[1]), subnet) for r in targets if r.kind is Kind.DAEMON]
        if nodes:
            reporter.step(f"stopping the dockerd of {', '.join(n.name for n in nodes)}, removing their roots")
            for what in daemon.stop(nodes):
                reporter.ok(f"removed {what}")
                removed.append(what)
        for resource in targets:
            removed += _remove(resource, reporter)
        for rule in netns.remove_rules():
            reporter.ok(f"removed iptables rule {rule}")
            removed.append(f"iptables rule {rule}")
        state.forget()
        if RUN_DIR.is_dir() and not any(RUN_DIR.iterdir()):
            RUN_DIR.rmdir()
    return removed


def _remove(resource: Resource, reporter: Reporter) -> list[str]:
    if resource.kind in (Kind.VETH, Kind.BRIDGE):
        if netns.remove_link(resource.name):
            reporter.ok(f"removed {resource.kind.value} {resource.name}")
            return [f"{resource.kind.value} {resource.name}"]
        return []
    if resource.kind is Kind.NETNS:
        if netns.remove_namespace(resource.name):
            reporter.ok(f"removed namespace {resource.name}")
            return [f"namespace {resource.name}"]
        return []
    # Daemons are stopped before the loop, all at once; every rule tagged drills-cluster is removed
    # after it, recorded or not.
    return []


def remnants() -> list[str]:
    """What of a cluster is on this machine without a record (a record deleted by hand, another state dir)."""
    return [*netns.our_namespaces(), *netns.observed_links(), *_observed_nodes()]


def _observed_nodes() -> list[str]:
    """Names of nodes something is left of: a namespace, a file in the run or state directory, a process."""
    names = {n.removeprefix(NAMESPACE_PREFIX) for n in netns.our_namespaces()}
    names = {f"node-{n}" for n in names}
    for directory in (RUN_DIR, state.cluster_dir()):
        if directory.is_dir():
            names |= {m.group(0) for p in directory.iterdir() if (m := re.match(r"node-\d+", p.name))}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            names |= set(re.findall(rf"{re.escape(str(RUN_DIR))}/(node-\d+)", cmd))
    return sorted(names)
