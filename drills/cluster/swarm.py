"""The swarm: initialised on node 1, the other nodes joined over the bridge, read back as a node list."""

from __future__ import annotations

import json
from dataclasses import dataclass

from drills.cluster.commands import attempt, run
from drills.cluster.daemon import docker
from drills.cluster.plan import ClusterPlan, NodePlan

SWARM_PORT = 2377
_FIX = "see the node's log (node-N.log in the state directory's cluster/); then `drill cluster down` and `up`"


@dataclass(frozen=True)
class LocalSwarm:
    """What a node says of itself (`docker info`): its state and the swarm it is in."""
    state: str  # inactive | pending | active | error | locked
    node_id: str
    cluster_id: str
    manager: bool


@dataclass(frozen=True)
class SwarmNode:
    """One line of `docker node ls` on a manager."""
    hostname: str
    node_id: str
    status: str  # Ready | Down | Unknown
    availability: str
    manager_status: str  # Leader | Reachable | Unreachable | "" for a worker

    @property
    def role(self) -> str:
        return "manager" if self.manager_status else "worker"


def parse_info(text: str) -> LocalSwarm:
    """`docker info --format '{{json .Swarm}}'` output."""
    data = json.loads(text) if text.strip() else {}
    cluster = data.get("Cluster") or {}
    return LocalSwarm(state=str(data.get("LocalNodeState", "")), node_id=str(data.get("NodeID", "")),
                      cluster_id=str(cluster.get("ID", "")), manager=bool(data.get("ControlAvailable", False)))


def parse_node_ls(text: str) -> list[SwarmNode]:
    """`docker node ls --format '{{json .}}'` output: one JSON object a line."""
    nodes = []
    for line in text.splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        nodes.append(SwarmNode(hostname=str(row.get("Hostname", "")), node_id=str(row.get("ID", "")),
                               status=str(row.get("Status", "")), availability=str(row.get("Availability", "")),
                               manager_status=str(row.get("ManagerStatus", ""))))
    return nodes


def local(node: NodePlan) -> LocalSwarm | None:
    """The node's own view, or None when its daemon does not answer."""
    result = attempt(docker(node, "info", "--format", "{{json .Swarm}}"), timeout_s=20)
    return parse_info(result.stdout) if result.returncode == 0 else None


def ensure_manager(cluster: ClusterPlan) -> tuple[LocalSwarm, bool]:
    """Node 1 as the swarm's manager; True when this call created the swarm."""
    node = cluster.manager
    found = local(node)
    if found is not None and found.state == "active":
        return found, False
    run(docker(node, "swarm", "init", "--advertise-addr", node.address,
               "--listen-addr", f"{node.address}:{SWARM_PORT}", "--default-addr-pool", cluster.pool), hint=_FIX)
    created = local(node)
    if created is None or created.state != "active":
        raise_not_active(node)
    assert created is not None
    return created, True


def ensure_member(cluster: ClusterPlan, node: NodePlan, swarm_id: str) -> bool:
    """`node` in the manager's swarm as a worker; True when this call joined it."""
    found = local(node)
    if found is not None and found.state == "active" and found.cluster_id in ("", swarm_id):
        return False  # a worker does not see the cluster ID; the manager's node list says it is in
    if found is not None and found.state not in ("inactive", ""):
        run(docker(node, "swarm", "leave", "--force"), hint=_FIX)  # in another swarm, or stuck pending
    token = run(docker(cluster.manager, "swarm", "join-token", "-q", "worker"), hint=_FIX).strip()
    run(docker(node, "swarm", "join", "--token", token, "--advertise-addr", node.address,
               "--listen-addr", f"{node.address}:{SWARM_PORT}", f"{cluster.manager.address}:{SWARM_PORT}"),
        hint=_FIX)
    return True


def node_list(manager: NodePlan) -> list[SwarmNode]:
    result = attempt(docker(manager, "node", "ls", "--format", "{{json .}}"), timeout_s=20)
    return parse_node_ls(result.stdout) if result.returncode == 0 else []


def raise_not_active(node: NodePlan) -> None:
    from drills.core.errors import SetupError

    raise SetupError(f"{node.name} is not in an active swarm after `swarm init`", hint=_FIX)


NODE_LABEL = "io.drills.node"  # node-N on every swarm node: all nodes share the host's hostname


def label(manager: NodePlan, node: NodePlan, node_id: str) -> None:
    """Label `node` with its name, for placement constraints (`node.labels.io.drills.node == node-2`)."""
    run(docker(manager, "node", "update", "--label-add", f"{NODE_LABEL}={node.name}", node_id), hint=_FIX)


def labels(manager: NodePlan) -> dict[str, str]:
    """Node ID -> the name it is labelled with."""
    ids = [n.node_id for n in node_list(manager)]
    if not ids:
        return {}
    result = attempt(docker(manager, "node", "inspect", "--format",
                            "{{.ID}} {{index .Spec.Labels \"" + NODE_LABEL + "\"}}", *ids), timeout_s=20)
    found = {}
    for line in result.stdout.splitlines():
        words = line.split()
        if len(words) == 2:
            found[words[0]] = words[1]
    return found
