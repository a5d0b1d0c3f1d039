"""Where the effective configuration is read from, one source per component: Patroni's dynamic
configuration in the DCS (`GET /config`: a value changed with `patronictl edit-config` wins over
any file) and PostgreSQL's own `pg_settings`; each queue's real type and members (RabbitMQ's
management API) and the partition handling in the configuration files a node reports it booted
with; MongoDB's replica set and version; the backends the balancer sends users to (HAProxy's stats).

Every read is passive (GET requests, SELECTs, `cat` of a node's configuration files) and short (a
few seconds' timeout). Each `parse_*` is pure (tested on recorded answers); each `read_*` returns a
`Part`, never raises for a system that does not answer, and says what it could not read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from drills.components import _mongo_status as mongo
from drills.components import _mongo_topology, _patroni_topology, _rabbitmq_topology, registry
from drills.components import _postgres_cluster as postgres
from drills.components import _rabbitmq_api as rabbitmq
from drills.components._patroni_effective import PATRONI_DEFAULTS, PATRONI_POSTGRESQL_DEFAULTS
from drills.components._pg_settings import PG_SETTINGS, PG_SETTINGS_SQL, PG_STATE_SETTINGS, parse_pg_settings
from drills.components._rabbitmq_effective import parse_partition_handling
from drills.components._stack_specs import Balancer, HttpSpec, MongoSpec, PostgresBase, PostgresSpec
from drills.components.base import Live
from drills.components.httpjson import get_json
from drills.core.effective_config import READ, Part, absent, not_read
from drills.stack import loadbalancer
from drills.stack.definition import StackDefinition
from drills.stack.live import as_live, as_logged_in
from drills.stack.topology import Legacy, endpoints, members

if TYPE_CHECKING:
    import docker

    from drills.components.base import Credential
    from drills.stack.env import StackSettings
    from drills.stack.services import ServiceInfo

TIMEOUT_S = 3.0


class EffectiveStack(Protocol):
    """What reading the effective configuration needs of a stack (implemented by `ComposeProject`)."""

    @property
    def settings(self) -> StackSettings: ...

    @property
    def client(self) -> docker.DockerClient: ...

    @property
    def definition(self) -> StackDefinition: ...

    def snapshot(self) -> dict[str, ServiceInfo]: ...

    def defined_services(self) -> tuple[str, ...]: ...

    def credential(self, ref: Credential) -> str: ...
    def host_names(self, snap: Mapping[str, ServiceInfo]) -> Mapping[str, tuple[str, ...]]: ...


# ---- PostgreSQL / Patroni -----------------------------------------------------------------------

def _pick(doc: Mapping[str, Any], defaults: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The keys of `defaults` as `doc` has them, else their default; and which were defaulted."""
    return {k: doc.get(k, v) for k, v in defaults.items()}, [k for k in defaults if k not in doc]


def parse_patroni(config: Mapping[str, Any], cluster: Mapping[str, Any],
                  node: Mapping[str, Any] | None,
                  place: postgres.Placer | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(settings, state) from Patroni's `GET /config` (the DCS's dynamic configuration), `GET /cluster`
    and `GET /patroni` of one member (its Patroni version; None when it did not answer). `place`:
    matches the members to their services (drills.components._patroni_topology.placer); none: not matched."""
    patroni, defaulted = _pick(config, PATRONI_DEFAULTS)
    pg_conf = config.get("postgresql") or {}
    pg, pg_defaulted = _pick(pg_conf, PATRONI_POSTGRESQL_DEFAULTS)
    cluster_members = postgres.parse_cluster(cluster)
    if place is not None:
        cluster_members = place(cluster_members)
    settings: dict[str, Any] = {
        "patroni": patroni, "postgresql": pg, "patroni_defaults": sorted(defaulted + pg_defaulted),
        "dcs_parameters": dict(pg_conf.get("parameters") or {}),
    }
    if node is not None and (node.get("patroni") or {}).get("version"):
        settings["patroni_version"] = str(node["patroni"]["version"])
    # Members are state: Patroni lists those with a live key in the DCS (a node down drops out).
    state = {"leader": postgres.leader_of(cluster_members),
             "members": [{"name": m.name, "role": m.role, "state": m.state, "service": m.service}
                         for m in cluster_members]}
    return settings, state


def _read_pg_settings(endpoint: tuple[str, int], user: str, password: str, timeout_s: float) -> list[tuple[Any, ...]]:
    import psycopg

    host, port = endpoint
    with psycopg.connect(host=host, port=port, user=user, password=password, dbname="postgres",
                         connect_timeout=max(1, round(timeout_s)), autocommit=True) as conn:
        return conn.execute(PG_SETTINGS_SQL, [list(PG_SETTINGS + PG_STATE_SETTINGS)]).fetchall()


def read_postgres(stack: EffectiveStack, snap: Mapping[str, ServiceInfo], timeout_s: float = TIMEOUT_S) -> Part:
    nodes = members(stack, snap, "postgres")
    if not nodes:
        return absent("no PostgreSQL service in this stack")
    bound = stack.definition.bound().get("postgres")
    if bound is not None:  # another manager than Patroni: its adapter reads it (drills.components)
        if bound.adapter.effective is None:
            return not_read(f"{bound.adapter.label}: its adapter reads no configuration")
        return bound.adapter.effective.read(bound.spec, as_logged_in(stack, snap), timeout_s)
    rest = endpoints(snap, nodes, stack.definition.component("postgres", PostgresSpec).rest_port)
    if not rest:
        return not_read(f"no PostgreSQL member ({', '.join(nodes)}) is running with Patroni's REST API published")
    errors = []
    for service, (host, port) in rest.items():
        base = f"http://{host}:{port}"
        try:
            config, cluster = get_json(f"{base}/config", timeout_s=timeout_s), get_json(f"{base}/cluster",
                                                                                          timeout_s=timeout_s)
        except OSError as exc:
            errors.append(f"{service}: {exc}")
            continue
        gaps: dict[str, str] = {}
        try:
            node = get_json(f"{base}/patroni", timeout_s=timeout_s)
        except OSError as exc:
            node, gaps["patroni_version"] = None, f"GET /patroni of {service}: {exc}"
        place = _patroni_topology.placer(Legacy(stack), snap)
        settings, state = parse_patroni(config or {}, cluster or {}, node, place)
        state["read_from"] = service
        member = state["leader"]
        leader = next((m["service"] for m in state["members"] if m["name"] == member), None)
        sql = endpoints(snap, [leader], stack.definition.component("postgres", PostgresBase).sql_port) if leader else {}
        if member is not None and leader is None:
            gaps["pg_settings"] = f"the leader, member {member}, matches no service of the stack"
        elif leader is None or leader not in sql:
            gaps["pg_settings"] = f"no single leader with a published port to ask ({leader or 'none'})"
        else:
            try:
                superuser = stack.definition.component("postgres", PostgresBase).login("superuser")
                rows = _read_pg_settings(sql[leader], superuser.user, stack.credential(superuser.password),
                                         timeout_s)
            except Exception as exc:  # psycopg.Error, OSError: recorded as not read, never fatal
                gaps["pg_settings"] = f"pg_settings on {leader}: {str(exc).strip()[:200]}"
            else:
                values, now = parse_pg_settings(rows)
                settings["pg_settings"] = values
                state.update(now)
        return Part(READ, settings=settings, state=state, not_read=gaps)
    return not_read("no Patroni REST API answered: " + "; ".join(errors))


# ---- RabbitMQ -----------------------------------------------------------------------------------

def parse_rabbitmq(overview: Mapping[str, Any], nodes: Iterable[Mapping[str, Any]],
                   queues: Iterable[Mapping[str, Any]]) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """(settings, state, not read) from `/api/overview`, `/api/nodes` and `/api/queues/<vhost>`."""
    node_docs = sorted(nodes, key=lambda n: str(n.get("name")))
    gaps: dict[str, str] = {}
    ticks = {rabbitmq.node_service(str(n["name"])): n["net_ticktime"] for n in node_docs
             if isinstance(n.get("net_ticktime"), int)}
    distinct = set(ticks.values())
    settings: dict[str, Any] = {"version": overview.get("rabbitmq_version"), "erlang": overview.get("erlang_version"),
                                "nodes": [rabbitmq.node_service(str(n["name"])) for n in node_docs]}
    if not ticks:
        gaps["net_ticktime_s"] = "the management API's /api/nodes gave no net_ticktime"
    else:
        settings["net_ticktime_s"] = distinct.pop() if len(distinct) == 1 else ticks
    for key in ("version", "erlang"):
        if settings[key] is None:
            del settings[key]
            gaps[key] = "not in /api/overview"
    queue_settings: dict[str, Any] = {}
    queue_state: dict[str, Any] = {}
    by_name = {str(q["name"]): q for q in queues}
    for q in rabbitmq.parse_queues(by_name.values()):
        doc = by_name[q.name]
        queue_settings[q.name] = {"type": q.type, "durable": bool(doc.get("durable")),
                                  "arguments": dict(doc.get("arguments") or {}), "policy": doc.get("policy"),
                                  "members": len(q.members) if q.type == "quorum" else None}
        queue_state[q.name] = {"leader": rabbitmq.node_service(q.leader) if q.leader else None,
                               "online": [rabbitmq.node_service(m) for m in q.online]}
    settings["queues"] = queue_settings
    state = {"running": [rabbitmq.node_service(str(n["name"])) for n in node_docs if n.get("running")],
             "queues": queue_state}
    return settings, state, gaps


def _config_files(stack: EffectiveStack, container_id: str, paths: Sequence[str]) -> dict[str, str]:
    """Each file's content, read inside the node's container (raises OSError naming what failed)."""
    container = stack.client.containers.get(container_id)
    files = {}
    for path in paths:
        done = container.exec_run(["cat", path])
        output = done.output.decode(errors="replace") if isinstance(done.output, bytes) else str(done.output)
        if done.exit_code != 0:
            raise OSError(f"cat {path} exited {done.exit_code}: {output.strip()[-200:]}")
        files[path] = output
    return files


def read_rabbitmq(stack: EffectiveStack, snap: Mapping[str, ServiceInfo], timeout_s: float = TIMEOUT_S) -> Part:
    nodes = members(stack, snap, "rabbitmq")
    if not nodes:
        return absent("no RabbitMQ service in this stack")
    api = _rabbitmq_topology.management(Legacy(stack), snap)
    if not api.endpoints:
        return not_read(f"no RabbitMQ node ({', '.join(nodes)}) is running with its management API published")
    vhost = "%2F"
    try:
        overview = api.request("GET", "overview?columns=rabbitmq_version,erlang_version", timeout_s=timeout_s)
        node_docs = api.request("GET", "nodes?columns=name,running,net_ticktime,config_files", timeout_s=timeout_s)
        queues = api.request("GET", f"queues/{vhost}?columns=name,type,leader,node,members,online,state,durable,"
                                    "arguments,policy", timeout_s=timeout_s)
    except OSError as exc:
        return not_read(f"RabbitMQ's management API: {exc}")
    settings, state, gaps = parse_rabbitmq(overview or {}, node_docs or [], queues or [])
    running = [rabbitmq.node_service(str(n["name"])) for n in node_docs or [] if n.get("running")]
    asked = next((s for s in running if s in snap and snap[s].state == "running"), None)
    if asked is None:
        gaps["cluster_partition_handling"] = "no running RabbitMQ node to ask"
    else:
        paths = next(n.get("config_files") or [] for n in node_docs if rabbitmq.node_service(str(n["name"])) == asked)
        try:
            value, where = parse_partition_handling(_config_files(stack, snap[asked].container_id, paths))
        except Exception as exc:  # docker errors, OSError, ValueError: recorded as not read
            gaps["cluster_partition_handling"] = f"not in the management API; {asked}'s configuration: {exc}"
        else:
            settings["cluster_partition_handling"] = value
            state["cluster_partition_handling_from"] = f"{asked}: {where}"
    return Part(READ, settings=settings, state=state, not_read=gaps)


# ---- MongoDB, the balancer, instances -----------------------------------------------------------

def _mongo_version(endpoint: tuple[str, int], user: str, password: str, timeout_s: float) -> str:
    import pymongo

    ms = int(timeout_s * 1000)
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        endpoint[0], endpoint[1], directConnection=True, username=user, password=password, authSource="admin",
        serverSelectionTimeoutMS=ms, connectTimeoutMS=ms, socketTimeoutMS=ms)
    try:
        return str(client.admin.command("buildInfo").get("version"))
    finally:
        client.close()


def read_mongo(stack: EffectiveStack, snap: Mapping[str, ServiceInfo], timeout_s: float = TIMEOUT_S) -> Part:
    nodes = members(stack, snap, "mongo")
    if not nodes:
        return absent(stack.settings.not_run("mongo") or "no MongoDB service in this stack")
    status = _mongo_topology.read_status(Legacy(stack), snap)
    if status.error is not None:
        return not_read(status.error)
    settings: dict[str, Any] = {"replica_set": mongo.REPLICA_SET, "members": len(status.members)}
    gaps: dict[str, str] = {}
    eps = endpoints(snap, nodes, stack.definition.component("mongo", MongoSpec).port)
    try:
        spec = stack.definition.spec.components.mongo
        settings["version"] = _mongo_version(next(iter(eps.values())), spec.root_user if spec is not None else "root",
                                             stack.settings.secrets.mongo_root_password,
                                             timeout_s)
    except Exception as exc:  # pymongo errors, no endpoint: recorded as not read
        gaps["version"] = f"buildInfo: {str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}"
    state = {"primary": status.primary,
             "members": [{"member": m.service or m.host, "state": m.state} for m in status.members]}
    return Part(READ, settings=settings, state=state, not_read=gaps)


def read_balancer(snap: Mapping[str, ServiceInfo], http: Balancer | None, timeout_s: float = TIMEOUT_S,
                  live: Live | None = None) -> Part:
    """The backends in rotation, as the stack file's balancer (`components: http:`) reports them;
    for a balancer whose adapter is in `drills.components`, what that adapter reads of it (`live`:
    the stack, `drills.stack.live.as_live`)."""
    if http is None:
        return absent("the stack file declares no balancer (no http component)")
    if http.balancer not in snap:
        return absent(f"no container of the balancer {http.balancer}")
    if not isinstance(http, HttpSpec):
        adapter = registry.adapter_of(http.adapter)
        if adapter.effective is None or live is None:
            return not_read(f"{adapter.label}: " + ("its adapter reads no configuration" if adapter.effective is None
                                                    else "no stack to read it from"))
        return adapter.effective.read(http, live, timeout_s)
    lb = loadbalancer.read_status(snap, http, timeout_s=timeout_s)
    if lb.error is not None:
        return not_read(f"HAProxy's stats: {lb.error}")
    if not lb.backends:
        return not_read(f"HAProxy's stats list no server of the backend {http.backend}")
    return Part(READ, settings={"balancer": http.balancer, "backend": http.backend,
                                "servers": [b.server for b in lb.backends]},
                state={"backends": {b.server: b.status for b in lb.backends}})




# ---- one source per part ------------------------------------------------------------------------

@dataclass(frozen=True)
class Source:
    """How one part is read, and which of its services Compose defines (a part absent while its
    services are defined is not read, not absent: `drills.stack.effective`)."""

    read: Callable[[EffectiveStack, Mapping[str, ServiceInfo], float], Part]
    defined: Callable[[EffectiveStack, Sequence[str]], list[str]]


def _of_group(group: str) -> Callable[[EffectiveStack, Sequence[str]], list[str]]:
    return lambda stack, defined: stack.settings.roles.members(group, defined)


def _balancer_read(stack: EffectiveStack, snap: Mapping[str, ServiceInfo], timeout_s: float) -> Part:
    return read_balancer(snap, stack.definition.spec.components.http, timeout_s, as_live(stack, snap))


def _balancer_defined(stack: EffectiveStack, defined: Sequence[str]) -> list[str]:
    http = stack.definition.spec.components.http
    return [http.balancer] if http is not None and http.balancer in defined else []


# By part name (drills.components.registry.EFFECTIVE_PARTS: the record's parts and their order).
SOURCES: dict[str, Source] = {
    "postgres": Source(read_postgres, _of_group("postgres")),
    "rabbitmq": Source(read_rabbitmq, _of_group("rabbitmq")),
    "mongo": Source(read_mongo, _of_group("mongo")),
    "balancer": Source(_balancer_read, _balancer_defined),
}
