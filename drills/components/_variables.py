"""Drills' own variables: those the reference stack's Compose files read (`docker-compose.ha.yml`)
and a stack file may declare under `variables:` for Drills to generate per run.

They are data here, in the stack file's own words (`secret`, `{secret: N}`, `subnet`, `net_prefix`),
so that the stack layer reads what a stack file declares and never spells one of them: the
passwords of the reference stack's components, its Erlang cookie and MongoDB key file, the run's
/24 and its first three octets (for fixed member addresses). A stack file written before it
declared them (none declared) gets all of them, as it did then.

A name here starts with DRILLS_, which a stack's own variables may not: Drills sets nothing else
so named, and strips any other DRILLS_ variable of the user's shell from a run's environment.
"""

from __future__ import annotations

from typing import Any

PREFIX = "DRILLS_"  # Drills' namespace: a stack names its own variables after the stack

# name -> its declaration, as a stack file writes it; in the order Compose's environment lists them.
REFERENCE: dict[str, Any] = {
    "DRILLS_PG_SUPERUSER_PASSWORD": "secret",
    "DRILLS_PG_REPLICATION_PASSWORD": "secret",
    "DRILLS_APP_PASSWORD": "secret",
    "DRILLS_RABBITMQ_COOKIE": {"secret": 20},  # Erlang's cookie: 40 hex characters
    "DRILLS_MONGO_ROOT_PASSWORD": "secret",
    "DRILLS_MONGO_KEYFILE": {"secret": 48},  # mongod's key file: 6 to 1024 base64 characters
    "DRILLS_SUBNET": "subnet",  # the run's free /24 (172.30.7.0/24)
    "DRILLS_NET_PREFIX": "net_prefix",  # its first three octets (172.30.7): members' fixed addresses
}


def written(name: str) -> str:
    """The declaration of `name` as a stack file writes it (`secret`, `{secret: 20}`): for messages."""
    declaration = REFERENCE[name]
    return declaration if isinstance(declaration, str) else "{" + ", ".join(
        f"{key}: {value}" for key, value in declaration.items()) + "}"


def name_of(attribute: str) -> str:
    """The variable callers ask `Secrets` for by attribute (`app_password` -> its variable): the
    name without the prefix, in lower case."""
    return PREFIX + attribute.upper()
