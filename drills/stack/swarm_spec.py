"""The stack file's `swarm:` section: where a `backend: swarm` stack's nodes are and which node runs
which service (pure models; `drills.files.stack_file` locates their errors).

    backend: swarm
    swarm:
      nodes: {node-1: unix:///run/a.sock, node-2: tcp://10.0.0.2:2376}   # absent: `drill cluster up`'s nodes
      placement: {pg1: node-1, pg2: node-2}                              # service -> its node
      spread: [brokers]                                                  # a role's services one per node

A placement becomes the constraint `node.labels.io.drills.node == <node>` (`drills.cluster.swarm.NODE_LABEL`):
all the nodes of the test cluster share the machine's hostname, so a hostname constraint would not tell them apart.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from drills.cluster.plan import MAX_NODES
from drills.components.base import Model, Name
from drills.stack.located import AtField

NodeName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*$", max_length=63)]
_DOCKER_HOST = re.compile(r"^(unix|tcp|ssh)://\S+$")


def _docker_host(text: str) -> str:
    if not _DOCKER_HOST.match(text):
        raise ValueError("a Docker endpoint is unix:///path/to/docker.sock, tcp://HOST:PORT or ssh://USER@HOST "
                         "(as docker -H takes it)")
    return text


DockerHost = Annotated[str, StringConstraints(max_length=1024), AfterValidator(_docker_host)]
_CLUSTER_NODE = re.compile(r"^node-([1-9][0-9]*)$")


class SwarmSpec(Model):
    """Where a `backend: swarm` stack runs: the swarm's nodes and which service runs on which."""

    nodes: dict[NodeName, DockerHost] | None = Field(
        None, description="node name -> its Docker endpoint (unix://, tcp:// or ssh://); the first is a manager of "
                          "the swarm. Absent: the test cluster on this machine (`drill cluster up`: node-1, node-2, "
                          "...; node-1 the manager). Each node carries the label io.drills.node=<its name>.")
    placement: dict[Name, NodeName] = Field(
        default_factory=dict, description="service -> the node that runs its one replica (e.g. pg1: node-1).")
    spread: list[Name] = Field(
        default_factory=list, description="Roles (or service groups: web -> web1, web2, ...) whose services go "
                                          "one per node, in order: the first on the first node, and so on.")

    @model_validator(mode="after")
    def _nodes_known(self) -> SwarmSpec:
        if self.nodes is not None and not self.nodes:
            raise AtField(("nodes",), "name at least one node (or leave nodes: out for the test cluster)")
        for service, node in self.placement.items():
            if self.nodes is not None and node not in self.nodes:
                raise AtField(("placement", service), f"node {node} is not one of nodes: ({', '.join(self.nodes)})")
            if self.nodes is None and not _cluster_node(node):
                raise AtField(("placement", service), f"{node} is no node of the test cluster: write node-1 ... "
                                                      f"node-{MAX_NODES} (or list your nodes under nodes:)")
        for i, group in enumerate(self.spread):
            if group in self.placement:
                raise AtField(("spread", i), f"{group} is placed under placement: already; name it in one of the two")
            if group in self.spread[:i]:
                raise AtField(("spread", i), f"{group} is spread twice")
        return self

    def node_names(self, cluster_size: int | None = None) -> tuple[str, ...]:
        """The nodes in order: those listed, else the test cluster's `cluster_size` nodes."""
        if self.nodes is not None:
            return tuple(self.nodes)
        return tuple(f"node-{i}" for i in range(1, (cluster_size or 0) + 1))


def _cluster_node(name: str) -> bool:
    found = _CLUSTER_NODE.match(name)
    return found is not None and int(found.group(1)) <= MAX_NODES
