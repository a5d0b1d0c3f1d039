"""Host ports for the stack's published ports, picked by us rather than by Docker.

Docker gives `127.0.0.1::5432` a new random host port at *every* container start, so a node that a
drill kills and starts again would come back somewhere else, out of reach of a client on the host
holding the old address (a libpq multi-host URL, say). The compose file therefore publishes each
port as `127.0.0.1:${DRILLS_PORT_<SERVICE>_<PORT>:-}:<PORT>`: unset, Docker picks as before; set by
`drill stack up` to a port that was free when picked, it stays the same for the life of the stack.
Drills' generated override (`drills.stack.override`) publishes the ports a stack's own Compose files
do not, with the same variables, so both are picked here alike.
"""

from __future__ import annotations

import re
import socket
from contextlib import ExitStack

from drills.components._host_ports import PORT_VARIABLE_PREFIX, variable

# `variable` is spelled below the stack, where the backups read the fixed ports too.
__all__ = ["assign", "free_ports", "is_conflict_error", "port_variables", "variable"]

_VARIABLE = re.compile(r"\$\{(" + re.escape(PORT_VARIABLE_PREFIX) + r"_[A-Z0-9_]+)")


def port_variables(compose_text: str) -> list[str]:
    """Every host-port variable (`PORT_VARIABLE_PREFIX`_*) a compose file reads."""
    return sorted(set(_VARIABLE.findall(compose_text)))


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """`count` distinct ports free on `host` right now (all held open at once, then released)."""
    with ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((host, 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


def assign(compose_text: str) -> dict[str, int]:
    variables = port_variables(compose_text)
    return dict(zip(variables, free_ports(len(variables)), strict=True))


def is_conflict_error(message: str) -> bool:
    """Something took a picked port between the pick and `compose up`."""
    return "port is already allocated" in message or "address already in use" in message
