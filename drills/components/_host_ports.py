"""The container ports Drills reaches from the host, per component of a stack file.

Drills' probes, signals and backups run on the host and reach each member of a component through a
port published on 127.0.0.1; `drills.stack.override` publishes those a stack's own Compose files do
not. Keyed by the component's key under `components:`, each entry names the spec's port fields (so
a stack that moves a port, `sql_port: 6432`, gets that one published).

Private until each adapter declares its own `ports(spec)` (docs/plans/components-protocol.md, 2.2),
which replaces this table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pydantic import BaseModel

REACHED: Mapping[str, tuple[str, ...]] = {
    # SQL (signals, status, effective configuration, dumps); Patroni's REST API (who leads).
    "postgres": ("sql_port", "rest_port"),
    # The v3 JSON gateway: a restore clears Patroni's keys from the host.
    "etcd": ("client_port",),
    # AMQP (signals); the management API (readiness, queue leaders, definitions backups).
    "rabbitmq": ("amqp_port", "management_port"),
    "mongo": ("port",),
    # The balancer's HTTP port: the http signals and its stats page.
    "http": ("port",),
}


def reached_ports(key: str, spec: BaseModel) -> tuple[int, ...]:
    """The container ports Drills reaches on every member of component `key`, as `spec` sets them."""
    # A field another adapter's spec lacks (repmgr has no REST port) is no port to reach.
    return tuple(int(getattr(spec, name)) for name in REACHED.get(key, ()) if getattr(spec, name, None) is not None)


# The one place the host-port variables' prefix is spelled: a Compose file may read
# `${DRILLS_PORT_<SERVICE>_<PORT>:-}` to fix where Drills reaches a port; the override sets them too.
PORT_VARIABLE_PREFIX = "DRILLS_PORT"


def variable(service: str, port: int) -> str:
    """The variable that fixes the host port of `port` of `service` (`db-1`, 5432 ->
    DRILLS_PORT_DB_1_5432; any character but A-Z0-9 as _): what a Compose file or Drills' override
    reads (`drills.stack.ports`), and what `drills.workload.endpoints.published` and the backups look up."""
    return f"{PORT_VARIABLE_PREFIX}_{re.sub(r'[^A-Z0-9]', '_', service.upper())}_{port}"
