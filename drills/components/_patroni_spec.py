"""Patroni-managed PostgreSQL: what a stack file says of it (`components.postgres` with `adapter: patroni`).

Private until the Patroni adapter module exists (docs/plans/components-protocol.md, C-P1), which
will declare it as its spec. What every PostgreSQL manager's entry says (logins, data directory,
access, members) is `_postgres_spec.PostgresBase`; this adds Patroni's REST port and where Patroni
keeps its keys.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from drills.components._postgres_spec import (
    LEGACY_POSTGRES_PASSWORDS,
    DatabaseAccess,
    PostgresBase,
    PostgresUsers,
)
from drills.components.base import Model, Name, Port

__all__ = ["LEGACY_POSTGRES_PASSWORDS", "DatabaseAccess", "PatroniSpec", "PostgresSpec", "PostgresUsers"]


class PatroniSpec(Model):
    """Where Patroni keeps its keys, for a restore that must make it forget the old cluster."""

    namespace: str = Field("/service/", pattern=r"^/([^/]+/)*$",
                           description="Patroni's `namespace:` (default /service/).")
    scope: Name | None = Field(None, description="Patroni's `scope:`. Unset: read from Patroni's REST API "
                                                 "(GET /patroni), which every Patroni answers.")


class PostgresSpec(PostgresBase):
    """PostgreSQL with automatic failover by Patroni."""

    adapter: Literal["patroni"] = Field(description="How Drills asks who leads: Patroni's REST API.")
    rest_port: Port = Field(8008, description="Patroni's REST API port inside the containers.")
    patroni: PatroniSpec = Field(default_factory=PatroniSpec)
