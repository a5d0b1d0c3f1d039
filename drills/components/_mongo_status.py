"""MongoDB tier: the replica set's primary and each member's state and lag.

The official `mongo:7` image has no Debian equivalent; where it is absent the tier is reported as
not run (never as healthy), and `drill stack up` leaves the compose profile `mongo` off.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import docker

PORT = 27017
REPLICA_SET = "rs0"


@dataclass(frozen=True)
class MongoMember:
    host: str  # as in the replica set config: IP:27017
    service: str | None
    state: str  # PRIMARY, SECONDARY, RECOVERING, (not reachable/healthy), ...
    healthy: bool
    lag_s: float | None  # behind the primary's last applied write


@dataclass(frozen=True)
class MongoStatus:
    ran: bool
    primary: str | None = None  # service
    members: tuple[MongoMember, ...] = ()
    error: str | None = None  # why not run, or what could not be read


def not_run(reason: str) -> MongoStatus:
    return MongoStatus(False, error=f"not run: {reason}")


def image_present(client: docker.DockerClient, image: str) -> bool:
    from drills.provision.base_image import present

    return present(client, image)


def _optime(member: Mapping[str, Any]) -> datetime | None:
    value = member.get("optimeDate")
    return value if isinstance(value, datetime) else None


def parse_repl_status(doc: Mapping[str, Any], service_by_ip: Mapping[str, str]) -> list[MongoMember]:
    """Members from `replSetGetStatus`, lag measured against the primary's optime."""
    raw = list(doc.get("members") or [])
    primary_optime = next((_optime(m) for m in raw if m.get("stateStr") == "PRIMARY"), None)
    members = []
    for m in raw:
        host = str(m.get("name", "?"))
        optime = _optime(m)
        lag = (primary_optime - optime).total_seconds() if primary_optime and optime else None
        members.append(MongoMember(host, service_by_ip.get(host.rpartition(":")[0]), str(m.get("stateStr", "?")),
                                   bool(m.get("health", 0)), lag))
    return members


def primary_of(members: Iterable[MongoMember]) -> str | None:
    found = [m.service or m.host for m in members if m.state == "PRIMARY"]
    return found[0] if len(found) == 1 else None


def read_status(endpoints: Mapping[str, tuple[str, int]], root_user: str, root_password: str,
                service_by_ip: Mapping[str, str], timeout_ms: int = 2000) -> MongoStatus:
    """`replSetGetStatus` from the first member that answers (each dialled directly), as the stack's
    root user."""
    import pymongo
    import pymongo.errors

    errors = []
    for service, (host, port) in endpoints.items():
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
            host, port, directConnection=True, username=root_user, password=root_password, authSource="admin",
            serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms, socketTimeoutMS=timeout_ms)
        try:
            doc = client.admin.command("replSetGetStatus")
        except pymongo.errors.PyMongoError as exc:
            errors.append(f"{service}: {str(exc).splitlines()[0][:160]}")
            continue
        finally:
            client.close()
        members = parse_repl_status(doc, service_by_ip)
        return MongoStatus(True, primary_of(members), tuple(members))
    return MongoStatus(True, error="; ".join(errors) or "no MongoDB member published a port")
