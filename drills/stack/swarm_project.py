"""One run's stack deployed across the nodes of a swarm (`docker stack deploy`): deploy, wait until
every service's task runs, find each task's node and container, reach a node's own engine, remove.

    nodes = SwarmNodes.of_cluster()                        # `drill cluster up`'s nodes, node-1 the manager
    with SwarmProject(project, nodes, deployable) as stack:  # deployed, every task running
        task = stack.current()["pg1"]                      # .node == "node-2", .container_id
        stack.container("pg1").pause()                     # through node-2's engine
    # `docker stack rm`, then waited for until no container, service or network of it is left

A fault acts on a task through the engine of the node that runs it (`client(node)`): the swarm's
manager only schedules; pausing, killing or entering a container's namespaces is the node's.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from drills.core.dockerlabels import PROJECT_LABEL
from drills.core.errors import StackError
from drills.core.local_state import state_dir
from drills.stack.swarm_tasks import (
    STACK_LABEL,
    SwarmNodeInfo,
    Task,
    current,
    not_running,
    parse_nodes,
    parse_services,
    parse_tasks,
)
from drills.stack.swarm_translate import Deployable

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container

CLI_TIMEOUT_S = 60.0
POLL_S = 1.0


@dataclass(frozen=True)
class SwarmNodes:
    """The swarm's nodes: name -> Docker endpoint, in order; the first is a manager."""

    hosts: Mapping[str, str]

    @property
    def manager(self) -> str:
        return next(iter(self.hosts))

    @classmethod
    def of_cluster(cls) -> SwarmNodes:
        """The test cluster's nodes (`drill cluster up`), from its record; StackError when there is none."""
        from drills.cluster import state
        from drills.cluster.plan import node_for

        record = state.load()
        if record is None or not record.nodes():
            raise StackError("no test cluster on this machine: a swarm stack without nodes: runs on it",
                             hint="`drill cluster up --nodes 3` (as root), or list the nodes under swarm: nodes:")
        return cls({node.name: node.host for node in (node_for(i, record.subnet) for i in record.nodes())})


class SwarmProject:
    def __init__(self, project: str, nodes: SwarmNodes, deployable: Deployable, *,
                 ready_timeout_s: float = 120.0) -> None:
        self.project = project
        self.nodes = nodes
        self.deployable = deployable
        self.ready_timeout_s = ready_timeout_s
        self._clients: dict[str, docker.DockerClient] = {}

    # ---- the docker CLI on the manager --------------------------------------------------------

    def manager(self, *args: str, timeout_s: float = CLI_TIMEOUT_S, check: bool = True) -> str:
        """`docker -H <manager> ARGS`: its stdout; StackError with its stderr when it fails (`check`)."""
        argv = ["docker", "-H", self.nodes.hosts[self.nodes.manager], *args]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                                  timeout=timeout_s, check=False, start_new_session=True)
        except subprocess.TimeoutExpired as exc:
            raise StackError(f"`{' '.join(argv)}` did not end within {timeout_s:.0f} s",
                             hint="is the swarm's manager up? `drill cluster status`") from exc
        if check and done.returncode != 0:
            raise StackError(f"`{' '.join(argv)}` failed: {(done.stderr or done.stdout).strip()[-600:]}",
                             hint="`drill cluster status` shows the nodes; `docker -H <manager> stack ps "
                                  f"{self.project}` the tasks")
        return done.stdout

    # ---- lifecycle ----------------------------------------------------------------------------

    @property
    def file(self) -> Path:
        """The translated stack file `docker stack deploy` reads (JSON is YAML)."""
        folder = state_dir() / "swarm"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return folder / f"{self.project}.json"

    def deploy(self) -> None:
        self.file.write_text(json.dumps(self.deployable.model, indent=2))
        # `--resolve-image never`: the nodes never pull; the images were loaded onto them.
        self.manager("stack", "deploy", "--detach=true", "--resolve-image", "never", "-c", str(self.file),
                     self.project, timeout_s=120)

    def wait_running(self, timeout_s: float | None = None) -> dict[str, Task]:
        """service -> its running task, once every service of the stack has one; StackError naming
        those that do not, with their task's state, after `timeout_s`."""
        wanted = sorted(self.deployable.model.get("services") or {})
        deadline = time.monotonic() + (timeout_s if timeout_s is not None else self.ready_timeout_s)
        while True:
            tasks = self.tasks()
            waiting = not_running(tasks, wanted)
            if not waiting:
                now = current(tasks)
                return {service: now[service] for service in wanted}
            if time.monotonic() > deadline:
                raise StackError(f"{self.project}: not every service runs: "
                                 + "; ".join(f"{s}: {why}" for s, why in waiting.items()),
                                 hint=f"`docker -H {self.nodes.hosts[self.nodes.manager]} service ps --no-trunc "
                                      f"{self.project}_<service>` says why")
            time.sleep(POLL_S)

    def remove(self) -> list[str]:
        """`docker stack rm`, then wait until no service, container or network of it is left on any
        node; what is still there after the wait (never raised: a teardown that fails half-way would
        leave more)."""
        self.manager("stack", "rm", self.project, check=False)
        deadline = time.monotonic() + 60
        while True:
            left = self.leftovers()
            if not left or time.monotonic() > deadline:
                break
            time.sleep(POLL_S)
        if not left:
            self.file.unlink(missing_ok=True)
        return left

    def leftovers(self) -> list[str]:
        """What of the stack any node still has: services (on the manager), containers, networks."""
        selector = f"label={STACK_LABEL}={self.project}"
        found = [f"service {s}" for s in self.manager("service", "ls", "-q", "--filter", selector,
                                                      check=False).split()]
        for node in self.nodes.hosts:
            client = self.client(node)
            try:
                found += [f"container {c.name} on {node}" for c in
                          client.containers.list(all=True, filters={"label": f"{PROJECT_LABEL}={self.project}"})]
                found += [f"network {n.name} on {node}" for n in
                          client.networks.list(filters={"label": f"{STACK_LABEL}={self.project}"})]
            except Exception as exc:  # a node down: say so, never hide that it was not checked
                found.append(f"{node} not checked ({exc})")
        return found

    def __enter__(self) -> SwarmProject:
        try:
            self.deploy()
            self.wait_running()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            left = self.remove()
            if left:
                import sys

                sys.stderr.write(f"warning: {self.project} left after `docker stack rm`: {', '.join(left)}\n")
        finally:
            self.close()

    # ---- tasks, nodes, containers -------------------------------------------------------------

    def tasks(self) -> list[Task]:
        """Every task of the stack (the history Swarm keeps too), each with its node's name."""
        ids = self.manager("stack", "ps", "-q", "--no-trunc", self.project, check=False).split()
        if not ids:
            return []
        listed = self.manager("service", "ls", "-q", "--filter", f"label={STACK_LABEL}={self.project}").split()
        services = parse_services(self._inspect("--type", "service", *listed), self.project) if listed else {}
        return parse_tasks(self._inspect("--type", "task", *ids), services, self.node_ids())

    def current(self) -> dict[str, Task]:
        return current(self.tasks())

    def node_ids(self) -> dict[str, SwarmNodeInfo]:
        ids = self.manager("node", "ls", "-q").split()
        return parse_nodes(self._inspect_nodes(ids)) if ids else {}

    def client(self, node: str) -> docker.DockerClient:
        """The engine of `node`, where its tasks' containers are (one client per node, kept)."""
        if node not in self._clients:
            import docker

            if node not in self.nodes.hosts:
                raise StackError(f"no node {node} in this swarm ({', '.join(self.nodes.hosts)})")
            self._clients[node] = docker.DockerClient(base_url=self.nodes.hosts[node], timeout=30)
        return self._clients[node]

    def container(self, service: str) -> Container:
        """The container of `service`'s running task, from the engine of the node that runs it."""
        task = self.current().get(service)
        if task is None or not task.running:
            raise StackError(f"{service} of {self.project} has no running task"
                             + (f" ({task.state} on {task.node or 'no node'})" if task is not None else ""))
        return self.client(task.node).containers.get(task.container_id)

    def close(self) -> None:
        for client in self._clients.values():
            with contextlib.suppress(Exception):
                client.close()
        self._clients.clear()

    def _inspect(self, *args: str) -> list[dict[str, Any]]:
        found = json.loads(self.manager("inspect", *args, check=False) or "[]")
        return found if isinstance(found, list) else []

    def _inspect_nodes(self, ids: list[str]) -> list[dict[str, Any]]:
        found = json.loads(self.manager("node", "inspect", *ids) or "[]")
        return found if isinstance(found, list) else []
