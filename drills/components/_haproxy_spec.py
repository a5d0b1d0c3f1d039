"""HAProxy as the HTTP balancer: what a stack file says of it (`components.http` with `adapter: haproxy`).

Private until the HAProxy adapter module exists (docs/plans/components-protocol.md, C-H1), which
will declare it as its spec and `default_roles`. Its fields are in the order stack files and the
schema have always listed them, so it is not a `BalancerSpec` (whose fields come first in a
subclass), though it says the same of its balancer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import Field

from drills.components.base import BalancerSpec, Model, Name, Port, RoleName


class HttpSpec(Model):
    """Stateless HTTP services behind a load balancer."""

    adapter: Literal["haproxy"]
    balancer: Name = Field(description="The balancer's service.")
    port: Port = Field(8080, description="The balancer's HTTP port inside its container.")
    backend: Name = Field(description="The HAProxy backend whose servers are the instances behind it.")
    stats_path: str = Field("/lb-stats", description="HAProxy's stats page (read for the backends in rotation).")
    instances: RoleName = Field(description="The role of the instances behind the balancer (e.g. dashboard).")


# `components.http`, told by its `adapter:`: HAProxy's entry above, or the spec of a balancer adapter
# of this package. Code that needs what only HAProxy has (its stats page) asks `isinstance(http,
# HttpSpec)`; the rest uses BalancerSpec's fields.
Balancer = HttpSpec | BalancerSpec


def default_roles(spec: HttpSpec) -> Mapping[str, list[str]]:
    """Role `http` is the balancer (what the http.* signals drive) unless the role map says otherwise."""
    return {"http": [spec.balancer]}
