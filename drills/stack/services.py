"""The containers of one compose project, as one cheap Docker API call sees them.

A snapshot is taken afresh each time it is needed: a restarted container gets a new random host
port, and a recreated one a new ID.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from drills.core.dockerlabels import PROJECT_LABEL, SERVICE_LABEL

if TYPE_CHECKING:
    import docker

_HEALTH = re.compile(r"\((healthy|unhealthy|health: starting)\)")


@dataclass(frozen=True)
class ServiceInfo:
    service: str
    container_id: str
    name: str
    state: str  # running, exited, paused, created, restarting, dead
    status: str  # Docker's human text: "Up 5 seconds (healthy)", "Exited (0) 3 seconds ago"
    health: str | None  # healthy, unhealthy, starting; None without a healthcheck
    ip: str | None
    ports: Mapping[int, int] = field(default_factory=dict)  # container port -> published 127.0.0.1 port
    labels: Mapping[str, str] = field(default_factory=dict)
    image: str = ""  # as the container was created from: a tag (drills/patroni:<hash>) or an ID
    image_id: str = ""  # sha256:..., the image actually run
    # Its other names on the stack network (network aliases, and DNS names where the engine lists
    # them): what a cluster manager may call it (drills.components._members).
    aliases: tuple[str, ...] = ()

    @property
    def exit_code(self) -> int | None:
        match = re.match(r"Exited \((\d+)\)", self.status)
        return int(match.group(1)) if match else None


def parse_summary(doc: Mapping[str, Any], network: str | None = None) -> ServiceInfo:
    """One entry of `GET /containers/json` (what `docker ps` shows)."""
    labels = {str(k): str(v) for k, v in (doc.get("Labels") or {}).items()}
    status = str(doc.get("Status", ""))
    match = _HEALTH.search(status)
    health = match.group(1).replace("health: ", "") if match else None
    ports: dict[int, int] = {}
    for p in doc.get("Ports") or []:
        if p.get("PublicPort") and p.get("Type", "tcp") == "tcp" and p.get("IP") in (None, "", "127.0.0.1", "0.0.0.0"):
            ports[int(p["PrivatePort"])] = int(p["PublicPort"])
    networks = (doc.get("NetworkSettings") or {}).get("Networks") or {}
    chosen = _on(networks, network)
    ip = (chosen or {}).get("IPAddress") or None
    names = doc.get("Names") or [""]
    return ServiceInfo(
        service=labels.get(SERVICE_LABEL, ""),
        container_id=str(doc.get("Id", "")),
        name=str(names[0]).lstrip("/"),
        state=str(doc.get("State", "")),
        status=status,
        health=health,
        ip=str(ip) if ip else None,
        ports=ports,
        labels=labels,
        image=str(doc.get("Image", "")),
        image_id=str(doc.get("ImageID", "")),
        aliases=_names(chosen),
    )


def _on(networks: Mapping[str, Any], network: str | None) -> Mapping[str, Any] | None:
    """The container's endpoint on `network`; on its only network when `network` is not one of its
    own (a stack whose network key Drills guessed), since then there is no other to mean."""
    if network and network in networks:
        found: Mapping[str, Any] | None = networks[network]
        return found
    if network and len(networks) != 1:
        return None
    return next(iter(networks.values()), None)


def _names(endpoint: Mapping[str, Any] | None) -> tuple[str, ...]:
    """A network endpoint's aliases and DNS names (Engine API 1.44 and later), deduplicated in order."""
    names = [*((endpoint or {}).get("Aliases") or ()), *((endpoint or {}).get("DNSNames") or ())]
    return tuple(dict.fromkeys(str(n) for n in names if n))


def inspect_names(doc: Mapping[str, Any], network: str | None = None) -> tuple[str, ...]:
    """Every name a container answers to on `network`, from `GET /containers/{id}/json` (docker
    inspect): its hostname (and hostname.domainname), its aliases and DNS names. The container list
    has no hostname, and engines before API 1.44 list no DNS names."""
    config = doc.get("Config") or {}
    hostname, domain = str(config.get("Hostname") or ""), str(config.get("Domainname") or "")
    own = [hostname, f"{hostname}.{domain}" if hostname and domain else ""]
    networks = (doc.get("NetworkSettings") or {}).get("Networks") or {}
    return tuple(dict.fromkeys(n for n in (*own, *_names(_on(networks, network))) if n))


def snapshot(client: docker.DockerClient, project: str, network: str | None = None) -> dict[str, ServiceInfo]:
    """service -> its container (stopped ones too), for every service of `project`."""
    docs = client.api.containers(all=True, filters={"label": f"{PROJECT_LABEL}={project}"})
    found = [parse_summary(d, network) for d in docs]
    return {s.service: s for s in sorted(found, key=lambda s: s.name) if s.service}
