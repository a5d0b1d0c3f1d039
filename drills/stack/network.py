"""The Compose network a stack's components share: named by the stack file or read from the Compose
model, and its addresses read from the engine.

Faults cut and slow that network (`partition`, `latency`), and the partition fault keeps the
host's gateway reachable from a cut node so that Drills still sees it: so its name and its real
gateway matter. A stack need not say either: its components' services usually share one network
(Compose's `default` when its files name none), whose name Compose resolves (`<project>_<key>`, or
the `name:` a file gives it), and whose subnet is Docker's pick unless the files read the /24 Drills
picks per run (`drills.stack.subnets`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from drills.core.errors import ScenarioError
from drills.stack.definition import RoleMap, StackDefinition

if TYPE_CHECKING:
    import docker


def network_key(definition: StackDefinition, roles: RoleMap, model: Mapping[str, Any]) -> str:
    """The key (under `networks:`) of the stack's network: the stack file's `compose.network`,
    else the one network every service of its components is on. ScenarioError, naming the stack
    file and what to write in it, when that is not exactly one."""
    networks: Mapping[str, Any] = model.get("networks") or {}
    where = f"stack {definition.name} ({definition.path}): compose.network"
    given = definition.spec.compose.network
    if given is not None:
        if given not in networks:
            raise ScenarioError(f"{where}: {given} is not a network of its Compose files ("
                                f"{', '.join(sorted(networks)) or 'they define none'})",
                                hint=f"say compose.network: <one of {', '.join(sorted(networks))}>" if networks
                                else "remove compose.network: (Compose's default network is then the one)")
        return given
    services: Mapping[str, Any] = model.get("services") or {}
    on = {service: networks_of(services[service]) for key in definition.component_names()
          for service in roles.members(key, services)}
    if not on:  # no component: the stack's only network, if it has one
        on = {service: networks_of(spec) for service, spec in services.items()}
    shared = sorted(frozenset.intersection(*on.values())) if on else []
    if len(shared) == 1:
        return shared[0]
    if shared:
        raise ScenarioError(f"{where}: the services of its components share several networks ({', '.join(shared)}); "
                            "faults cut one of them", hint=f"say compose.network: <one of {', '.join(shared)}>")
    each = "; ".join(f"{service}: {', '.join(sorted(nets)) or 'none'}" for service, nets in sorted(on.items()))
    raise ScenarioError(f"{where}: the services of its components share no network ({each})",
                        hint="put them on one network in the Compose files and say compose.network: <its key>")


def networks_of(service: Mapping[str, Any]) -> frozenset[str]:
    """The networks (keys) a service of the model is on: Compose's `default` when it names none,
    none when it shares another namespace (`network_mode:`)."""
    if service.get("network_mode"):
        return frozenset()
    named = service.get("networks")
    return frozenset(str(n) for n in named) if named else frozenset({"default"})


def network_name(model: Mapping[str, Any], key: str, project: str) -> str:
    """The engine's name of network `key`, as Compose resolves it."""
    spec = (model.get("networks") or {}).get(key) or {}
    return str(spec.get("name") or f"{project}_{key}")


def read_ipam(client: docker.DockerClient, name: str) -> tuple[ipaddress.IPv4Network, str] | None:
    """The subnet and gateway of network `name` as the engine holds it; None when it is not there
    (not created yet, or removed) or has no IPv4 subnet."""
    import docker.errors

    try:
        attrs = client.networks.get(name).attrs
    except (docker.errors.NotFound, docker.errors.APIError):
        return None
    return ipam_of(attrs)


def ipam_of(attrs: Mapping[str, Any]) -> tuple[ipaddress.IPv4Network, str] | None:
    """The first IPv4 subnet of a network's `IPAM.Config`, with its gateway (the first address
    when the engine names none)."""
    for cfg in (attrs.get("IPAM") or {}).get("Config") or []:
        try:
            subnet = ipaddress.ip_network(str(cfg.get("Subnet", "")), strict=False)
        except ValueError:
            continue
        if isinstance(subnet, ipaddress.IPv4Network):
            gateway = str(cfg.get("Gateway") or "").partition("/")[0] or str(next(subnet.hosts()))
            return subnet, gateway
    return None
