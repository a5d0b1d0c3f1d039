"""etcd: what a stack file says of it (`components.etcd` with `adapter: etcd`).

Private until the etcd adapter module exists (docs/plans/components-protocol.md, C-E1), which will
declare it as its spec.
"""

from __future__ import annotations

from typing import Literal

from drills.components.base import Model, Port


class EtcdSpec(Model):
    """The consensus store Patroni keeps its leader key in."""

    adapter: Literal["etcd"]
    client_port: Port = 2379
