"""MongoDB: what a stack file says of it (`components.mongo` with `adapter: mongo`).

Private until the MongoDB adapter module exists (docs/plans/components-protocol.md, C-M1), which
will declare it as its spec.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from drills.components.base import Model, Name, Port


class MongoSpec(Model):
    """A MongoDB replica set."""

    adapter: Literal["mongo"]
    port: Port = 27017
    database: Name = Field("app", description="The database `mongo.write` writes to.")
    replica_set: Name = "rs0"
    user: Name = "app"
    root_user: Name = "root"
