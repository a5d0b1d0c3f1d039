"""What every PostgreSQL HA manager's entry (`components.postgres`) says, whatever manages failover:
the SQL port, the database the signals write to, the logins Drills uses and where their passwords
are, the data directory and its owner, the path applications use (a proxy), and member names
where they cannot be read live. Each manager's spec (`_patroni_spec.PostgresSpec`,
`repmgr.RepmgrSpec`) extends it with its own fields and narrows `adapter`.

Every default is the reference stack's convention, so its file stays short; a stack written
elsewhere names its own.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from drills.components.base import AdapterSpec, Credential, Login, Model, Name, Port, RoleName


class PostgresUsers(Model):
    """The logins Drills uses, each with where its password is (the stack's own secret, file or
    variable). Unset: the flat `user`/`superuser` fields with Drills' generated DRILLS_* passwords
    (the reference stack's convention)."""

    app: Login | None = Field(None, description="What the signals connect as (`postgres.write`, `postgres.read`).")
    superuser: Login | None = Field(None, description="For status, effective configuration, who leads (repmgr) "
                                                      "and `postgres.dump`.")
    replication: Login | None = Field(None, description="For `postgres.snapshot` (pg_basebackup).")


class DatabaseAccess(Model):
    """The path the stack's applications use to reach the database: a proxy (HAProxy with Patroni's
    REST checks, pgbouncer) that sends connections to the leader. The signals connect through it,
    so a proxy that routes wrong fails the drill."""

    through: RoleName = Field(description="The role of the proxy's services (e.g. db-proxy).")
    port: Port = Field(description="The proxy's port inside its container (e.g. 5000).")


# The reference stack's passwords: variables Drills generates per run.
LEGACY_POSTGRES_PASSWORDS = {"app": "DRILLS_APP_PASSWORD", "superuser": "DRILLS_PG_SUPERUSER_PASSWORD",
                             "replication": "DRILLS_PG_REPLICATION_PASSWORD"}


class PostgresBase(AdapterSpec):
    """PostgreSQL with automatic failover, whatever manages it."""

    sql_port: Port = 5432
    database: Name = Field("app", description="The database `postgres.write` writes its table to (it must exist).")
    user: Name = Field("app", description="The user the signals connect as when `users.app` is unset; its "
                                          "password is then DRILLS_APP_PASSWORD.")
    superuser: Name = Field("postgres", description="The superuser when `users.superuser` is unset; its password is "
                                                    "then DRILLS_PG_SUPERUSER_PASSWORD.")
    users: PostgresUsers = Field(default_factory=PostgresUsers)
    members: dict[Name, Name] = Field(
        default_factory=dict, description="The manager's member name -> Compose service, only where Drills cannot "
                                          "match them by address (it reads each member's host from the manager).")
    data_dir: str | None = Field(None, pattern=r"^/", description="The data directory inside the containers. Unset: "
                                                                 "read from the leader (SHOW data_directory).")
    os_user: Name | None = Field(None, description="The OS user that owns the data directory. Unset: read from it.")
    access: DatabaseAccess | None = Field(
        None, description="The proxy the applications connect through. Unset: the signals connect to every node "
                          "(libpq multi-host, target_session_attrs=read-write).")

    def login(self, role: Literal["app", "superuser", "replication"]) -> Login:
        """The login Drills uses as `role`: the stack file's `users`, else the reference convention."""
        given: Login | None = getattr(self.users, role)
        if given is not None:
            return given
        user = {"app": self.user, "superuser": self.superuser, "replication": "replicator"}[role]
        return Login(user=user, password=Credential(generated=LEGACY_POSTGRES_PASSWORDS[role]))


def access_path(spec: PostgresBase) -> tuple[str | None, int]:
    """The path the database signals take, as a run's journal records it: (the proxy's role and
    its port) where the stack file names one (`access`), else (None, the members' SQL port)."""
    return (spec.access.through, spec.access.port) if spec.access else (None, spec.sql_port)
