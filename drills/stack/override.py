"""Drills' generated Compose override: the host ports Drills needs that a stack's files do not publish.

Drills' probes, signals and backups run on the host and reach each member of a component through a
port on 127.0.0.1 (`drills.components._host_ports` says which, per component, plus the port of the
proxy the applications go through, `access:`). A stack written without Drills in mind publishes
none of them, or only what its own users need; rather than asking its Compose files for a
convention, Drills layers a file of its own after them (the last `-f`), for each such port:

    services:
      "db-1":
        ports:
          - "127.0.0.1:${DRILLS_PORT_DB_1_5432:-}:5432"

with the variable `drills.stack.ports` picks a host port for, so the port is on loopback only and
stays the same when a drill kills and restarts the node (`drills.workload.endpoints.published`
finds it by that variable). A port the stack's files already publish, on whatever host port, is
left as they say: Compose appends `ports:` entries when it merges files, so naming it again would
publish it twice.

Pure: from the stack file, its role map and the Compose model (`docker compose config --format
json`). `drills.stack.project` keeps the text in the run's settings and writes it to the state
directory (`drills.stack.state.write_override`), never beside the stack's own files.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from drills.components._host_ports import reached_ports, variable
from drills.stack.definition import RoleMap, StackDefinition, order

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Override:
    """service -> the container ports Drills publishes for it, in the order first needed."""

    publish: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    def entries(self) -> dict[str, list[str]]:
        """service -> its `ports:` entries, as Compose reads them."""
        return {service: [f"{LOOPBACK}:${{{variable(service, port)}:-}}:{port}" for port in ports]
                for service, ports in self.publish.items()}

    def variables(self) -> list[str]:
        return sorted(variable(service, port) for service, ports in self.publish.items() for port in ports)

    def text(self, project: str) -> str:
        """The override file ("" when it would add nothing: no `-f` then). Keys and values are
        JSON strings, which YAML reads as they are, whatever a service is called."""
        if not self.publish:
            return ""
        lines = [f"# Drills' own override for project {project}, generated at each `drill stack up` / `drill run`",
                 "# (never one of the stack's files): the container ports Drills reaches from the host that",
                 "# the stack's Compose files do not publish, on 127.0.0.1.",
                 "services:"]
        for service, entries in self.entries().items():
            lines += [f"  {json.dumps(service)}:", "    ports:", *(f"      - {json.dumps(e)}" for e in entries)]
        return "\n".join(lines) + "\n"


def generate(definition: StackDefinition, roles: RoleMap, model: Mapping[str, Any]) -> Override:
    """What Drills must publish for `definition`'s components, given the Compose `model` (every
    profile's services) and who plays which role in it."""
    services: Mapping[str, Any] = model.get("services") or {}
    wanted: dict[str, list[int]] = {}
    for key in definition.component_names():
        spec = getattr(definition.spec.components, key)
        for service in roles.members(key, services):
            wanted.setdefault(service, []).extend(reached_ports(key, spec))
        access = getattr(spec, "access", None)  # the proxy the applications reach the component through
        if access is not None:
            for service in roles.members(access.through, services):
                wanted.setdefault(service, []).append(int(access.port))
    publish = {}
    for service in order(wanted):
        spec = services.get(service) or {}
        if spec.get("network_mode"):
            continue  # shares another namespace (or the host's): Compose refuses to publish a port on it
        missing = tuple(p for p in dict.fromkeys(wanted[service]) if p not in published_targets(spec))
        if missing:
            publish[service] = missing
    return Override(publish)


def published_targets(service: Mapping[str, Any]) -> frozenset[int]:
    """The container ports a service of the model publishes on the host over TCP, whatever the host
    port (Compose's model writes each entry as a mapping; a file read as it is, as a string)."""
    found = set()
    for entry in service.get("ports") or []:
        if isinstance(entry, Mapping):
            target, protocol = str(entry.get("target", "")), str(entry.get("protocol") or "tcp")
        else:
            target, _, protocol = str(entry).rsplit(":", 1)[-1].partition("/")
        if target.isdigit() and protocol in ("", "tcp"):
            found.add(int(target))
    return frozenset(found)
