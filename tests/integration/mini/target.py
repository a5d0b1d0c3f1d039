"""A FaultTarget over a plain compose project whose roles are its service names."""

from __future__ import annotations

import subprocess
from pathlib import Path

import docker

from drills.provision.compose import compose_command

COMPOSE_FILE = Path(__file__).with_name("compose.yml")


class MiniTarget:
    def __init__(self, project: str) -> None:
        self.project = project
        self.client = docker.from_env()

    def containers(self, role: str):
        service = role.split(".", maxsplit=1)[0]
        if role == "clients":
            return []
        return self.client.containers.list(all=True, filters={
            "label": [f"com.docker.compose.project={self.project}", f"com.docker.compose.service={service}"]})

    def _network(self, container):
        container.reload()
        return next(iter(container.attrs["NetworkSettings"]["Networks"].values()))

    def ip_of(self, container) -> str:
        return self._network(container)["IPAddress"]

    def gateway_ip(self) -> str:
        return self._network(self.containers("a")[0])["Gateway"]

    def compose(self, *args: str) -> None:
        subprocess.run([*compose_command(), "-p", self.project, "-f", str(COMPOSE_FILE), *args], check=True)
