"""The effective configuration of a live stack: what was drilled, read back from the running system.

A stack file or an override says what an operator meant; the running system says what holds:
Patroni's dynamic configuration in the DCS (`GET /config`: a value changed with `patronictl
edit-config` wins over any file), PostgreSQL's own settings (`pg_settings`), each queue's real type
and members (RabbitMQ's management API), the partition handling in the configuration files a
node reports it booted with, the backends the balancer sends users to (HAProxy's stats), and how many instances of
each role are defined and running, with the images they run.

Every read is passive (GET requests, SELECTs, `cat` of a node's configuration files), short (a few
seconds' timeout) and runs beside the others. Each part is `read`, `not read` (with why: a part
that could not be read is never an empty part that looks like "nothing configured") or `absent`
(the stack has no such component, with why). A read part keeps what it could not read of itself
in `not_read`, item by item.

A part's `settings` are the configuration (compared between two reads by `changes`); its `state` is
what holds at the moment of the read (leaders, backends UP): context for a reader, never compared.

The JSON shape (`EffectiveConfig.to_json`), as the journal's `environment.effective` holds it:

    {"read_s": 0.41, "parts": {"postgres": {"status": "read", "reason": "", "settings": {...},
                                            "state": {...}, "not_read": {"version": "why"}}, ...}}
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from drills.roles import CLIENTS
from drills.stack import loadbalancer, mongo, postgres, rabbitmq
from drills.stack.definition import HttpSpec, RoleMap, StackDefinition, order
from drills.stack.http import get_json
from drills.stack.topology import endpoints, management, members, mongo_status

if TYPE_CHECKING:
    import docker

    from drills.stack.env import StackSettings
    from drills.stack.services import ServiceInfo

Status = Literal["read", "not read", "absent"]
READ: Status = "read"
NOT_READ: Status = "not read"
ABSENT: Status = "absent"
_STATUSES: dict[str, Status] = {READ: READ, NOT_READ: NOT_READ, ABSENT: ABSENT}
PARTS = ("postgres", "rabbitmq", "mongo", "balancer", "instances")
TIMEOUT_S = 3.0

# Patroni's dynamic settings that decide failover and durability, with Patroni's documented default:
# a key the DCS does not hold is recorded as that default, marked so (never guessed silently).
PATRONI_DEFAULTS: dict[str, Any] = {
    "synchronous_mode": False, "synchronous_mode_strict": False, "synchronous_node_count": 1,
    "ttl": 30, "loop_wait": 10, "retry_timeout": 10, "maximum_lag_on_failover": 1048576,
    "failsafe_mode": False,
}
PATRONI_POSTGRESQL_DEFAULTS: dict[str, Any] = {"use_pg_rewind": False, "use_slots": True}
# PostgreSQL's own view of the settings a drill's verdicts depend on (durability, replication).
PG_SETTINGS = ("server_version", "synchronous_commit", "wal_level", "max_wal_senders", "wal_keep_size",
               "wal_log_hints", "hot_standby")
PG_STATE_SETTINGS = ("synchronous_standby_names",)  # names the current synchronous standby: it moves
PG_SETTINGS_SQL = "SELECT name, setting, coalesce(unit, '') FROM pg_settings WHERE name = ANY(%s) ORDER BY name"
RABBITMQ_DEFAULT_PARTITION_HANDLING = "ignore"
COMPONENTS = ("postgres", "rabbitmq", "mongo")  # the parts read from a component of the role map


@dataclass(frozen=True)
class Part:
    """One component's effective configuration, or why it is not there."""

    status: Status
    reason: str = ""  # not read / absent: why
    settings: Mapping[str, Any] = field(default_factory=dict)
    state: Mapping[str, Any] = field(default_factory=dict)
    not_read: Mapping[str, str] = field(default_factory=dict)  # item -> why, in a part that was read

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "reason": self.reason, "settings": dict(self.settings),
                "state": dict(self.state), "not_read": dict(self.not_read)}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Part:
        status = _STATUSES.get(str(doc.get("status")), NOT_READ)
        return cls(status, str(doc.get("reason", "")), dict(doc.get("settings") or {}), dict(doc.get("state") or {}),
                   {str(k): str(v) for k, v in (doc.get("not_read") or {}).items()})


def not_read(reason: str) -> Part:
    return Part(NOT_READ, reason=reason)


def absent(reason: str) -> Part:
    return Part(ABSENT, reason=reason)


@dataclass(frozen=True)
class EffectiveConfig:
    parts: Mapping[str, Part]
    read_s: float | None = None  # how long the read took
    stack: Mapping[str, Any] = field(default_factory=dict)  # the stack file and Compose files it came from

    def part(self, name: str) -> Part:
        """A part this record lacks (an older journal) is not read, never "nothing configured"."""
        return self.parts.get(name) or not_read("not recorded")

    def to_json(self) -> dict[str, Any]:
        return {"read_s": None if self.read_s is None else round(self.read_s, 3), "stack": dict(self.stack),
                "parts": {name: self.part(name).to_json() for name in PARTS}}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any] | None) -> EffectiveConfig:
        parts = (doc or {}).get("parts") or {}
        read_s = (doc or {}).get("read_s")
        stack = (doc or {}).get("stack")
        return cls({name: Part.from_json(parts[name]) for name in PARTS if isinstance(parts.get(name), Mapping)},
                   float(read_s) if isinstance(read_s, int | float) else None,
                   dict(stack) if isinstance(stack, Mapping) else {})


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


# ---- PostgreSQL / Patroni -----------------------------------------------------------------------

def _pick(doc: Mapping[str, Any], defaults: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The keys of `defaults` as `doc` has them, else their default; and which were defaulted."""
    return {k: doc.get(k, v) for k, v in defaults.items()}, [k for k in defaults if k not in doc]


def parse_patroni(config: Mapping[str, Any], cluster: Mapping[str, Any],
                  node: Mapping[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(settings, state) from Patroni's `GET /config` (the DCS's dynamic configuration), `GET /cluster`
    and `GET /patroni` of one member (its Patroni version; None when it did not answer)."""
    patroni, defaulted = _pick(config, PATRONI_DEFAULTS)
    pg_conf = config.get("postgresql") or {}
    pg, pg_defaulted = _pick(pg_conf, PATRONI_POSTGRESQL_DEFAULTS)
    cluster_members = postgres.parse_cluster(cluster)
    settings: dict[str, Any] = {
        "patroni": patroni, "postgresql": pg, "patroni_defaults": sorted(defaulted + pg_defaulted),
        "dcs_parameters": dict(pg_conf.get("parameters") or {}), "members": len(cluster_members),
    }
    if node is not None and (node.get("patroni") or {}).get("version"):
        settings["patroni_version"] = str(node["patroni"]["version"])
    state = {"leader": postgres.leader_of(cluster_members),
             "members": [{"name": m.name, "role": m.role, "state": m.state} for m in cluster_members]}
    return settings, state


def parse_pg_settings(rows: Iterable[Sequence[Any]]) -> tuple[dict[str, str], dict[str, str]]:
    """(settings, state) from `pg_settings` rows (name, setting, unit): `128` `MB` reads `128MB`."""
    values = {str(r[0]): f"{r[1]}{r[2] or ''}" for r in rows}
    return ({k: values[k] for k in PG_SETTINGS if k in values},
            {k: values[k] for k in PG_STATE_SETTINGS if k in values})


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
    rest = endpoints(snap, nodes, postgres.REST_PORT)
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
        settings, state = parse_patroni(config or {}, cluster or {}, node)
        state["read_from"] = service
        leader = state["leader"]
        sql = endpoints(snap, [leader], postgres.PG_PORT) if leader else {}
        if leader is None or leader not in sql:
            gaps["pg_settings"] = f"no single leader with a published port to ask ({leader or 'none'})"
        else:
            try:
                spec = stack.definition.spec.components.postgres
                rows = _read_pg_settings(sql[leader], spec.superuser if spec is not None else "postgres",
                                         stack.settings.secrets.pg_superuser_password, timeout_s)
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


_CONF_KEY = re.compile(r"^\s*cluster_partition_handling\s*=\s*(\S+)", re.M)


def parse_partition_handling(files: Mapping[str, str]) -> tuple[str, str]:
    """(value, where) from the configuration files a node reports it booted with (`config_files` of
    `/api/nodes`: path -> content). The management API does not expose the value itself, and asking
    the broker (`rabbitmqctl eval`) starts an Erlang VM: seconds on a loaded machine. Not set in any
    `.conf` file: RabbitMQ's default, unless an advanced.config (Erlang terms, not parsed) could set
    it: ValueError then, read as not read."""
    for path, text in files.items():
        found = _CONF_KEY.findall(text) if not path.endswith(".config") else []
        if found:
            return found[-1], path  # the last assignment wins, as in RabbitMQ's own parsing
    if any(path.endswith(".config") for path in files):
        raise ValueError(f"not set in a .conf file; {', '.join(p for p in files if p.endswith('.config'))} "
                         "(Erlang terms) is not parsed")
    where = ", ".join(files) or "no configuration file"
    return RABBITMQ_DEFAULT_PARTITION_HANDLING, f"RabbitMQ's default (not set in {where})"


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
    api = management(stack, snap)
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
        return absent(stack.settings.mongo_not_run or "no MongoDB service in this stack")
    status = mongo_status(stack, snap)
    if status.error is not None:
        return not_read(status.error)
    settings: dict[str, Any] = {"replica_set": mongo.REPLICA_SET, "members": len(status.members)}
    gaps: dict[str, str] = {}
    eps = endpoints(snap, nodes, mongo.PORT)
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


def read_balancer(snap: Mapping[str, ServiceInfo], http: HttpSpec | None, timeout_s: float = TIMEOUT_S) -> Part:
    """The backends in rotation, as the stack file's balancer (`components: http:`) reports them."""
    if http is None:
        return absent("the stack file declares no balancer (no http component)")
    if http.balancer not in snap:
        return absent(f"no container of the balancer {http.balancer}")
    lb = loadbalancer.read_status(snap, http, timeout_s=timeout_s)
    if lb.error is not None:
        return not_read(f"HAProxy's stats: {lb.error}")
    if not lb.backends:
        return not_read(f"HAProxy's stats list no server of the backend {http.backend}")
    return Part(READ, settings={"balancer": http.balancer, "backend": http.backend,
                                "servers": [b.server for b in lb.backends]},
                state={"backends": {b.server: b.status for b in lb.backends}})


def roles_of(services: Iterable[str], role_map: RoleMap) -> dict[str, list[str]]:
    """role -> its services: every role of the stack's map; a service in none counts alone, or with
    the services of its name's stem where the map is empty (settings made by hand)."""
    names = order(services)
    # `clients` is every service a fault on "the clients" touches: it overlaps the app's own roles.
    roles = {role: found for role in role_map.roles
             if role != CLIENTS and (found := role_map.members(role, names))}
    grouped = {s for found in roles.values() for s in found}
    for s in names:
        if s not in grouped:
            roles.setdefault(s if role_map.roles else s.rstrip("0123456789") or s, []).append(s)
    return roles


def instances(defined: Sequence[str] | None, snap: Mapping[str, ServiceInfo], role_map: RoleMap,
              why_not: str = "") -> Part:
    """How many instances of each role Compose defines and how many run, and the images they run.
    `defined` None: Compose could not say (`why_not`); the containers' own count is kept."""
    running = [s for s, info in snap.items() if info.state == "running"]
    roles = roles_of([*(defined or ()), *snap], role_map)
    counts: dict[str, Any] = {}
    for role, services in roles.items():
        counts[role] = {"defined": None if defined is None else sum(1 for s in services if s in defined),
                        "running": sum(1 for s in services if s in running)}
    images: dict[str, list[str]] = {}
    for s, info in sorted(snap.items()):
        label = info.image + (f" ({info.image_id.removeprefix('sha256:')[:12]})" if info.image_id else "")
        images.setdefault(label or "unknown", []).append(s)
    gaps = {"defined": why_not} if defined is None else {}
    return Part(READ, settings={"defined": {r: c["defined"] for r, c in counts.items()}, "images": images},
                state={"running": {r: c["running"] for r, c in counts.items()}}, not_read=gaps)


def _guarded(read: Callable[[], Part]) -> Part:
    """A reader that raised is a part not read, with why: never a missing part."""
    try:
        return read()
    except Exception as exc:
        return not_read(f"{type(exc).__name__}: {str(exc)[:300]}")


def read_effective(stack: EffectiveStack, timeout_s: float = TIMEOUT_S) -> EffectiveConfig:
    """Every part, read concurrently; each failing on its own (see the module's docstring)."""
    t0 = time.monotonic()
    try:
        snap = stack.snapshot()
    except Exception as exc:  # the engine itself did not answer: nothing could be read
        why = f"the stack's containers could not be listed: {exc}"
        return EffectiveConfig({name: not_read(why) for name in PARTS}, time.monotonic() - t0)
    with ThreadPoolExecutor(max_workers=len(PARTS)) as pool:
        defined = pool.submit(stack.defined_services)
        futures = {
            "postgres": pool.submit(_guarded, lambda: read_postgres(stack, snap, timeout_s)),
            "rabbitmq": pool.submit(_guarded, lambda: read_rabbitmq(stack, snap, timeout_s)),
            "mongo": pool.submit(_guarded, lambda: read_mongo(stack, snap, timeout_s)),
            "balancer": pool.submit(_guarded, lambda: read_balancer(snap, stack.definition.spec.components.http,
                                                                    timeout_s)),
        }
        parts = {name: f.result() for name, f in futures.items()}
        try:
            names: tuple[str, ...] | None = defined.result()
            why = ""
        except Exception as exc:
            names, why = None, f"docker compose config: {str(exc)[:300]}"
    parts["instances"] = _guarded(lambda: instances(names, snap, stack.settings.roles, why))
    if names is not None:
        parts = {name: _defined_but_gone(stack, name, part, names) for name, part in parts.items()}
    return EffectiveConfig({name: parts[name] for name in PARTS}, time.monotonic() - t0, declared(stack))


def declared(stack: EffectiveStack) -> dict[str, Any]:
    """Which stack file and Compose files (overrides last) the stack was brought up from."""
    try:
        definition = stack.definition
        return {"name": definition.name, "file": str(definition.path),
                "compose_files": [str(f) for f in definition.compose_files()]}
    except Exception as exc:  # a saved stack whose definition cannot be rebuilt
        return {"not_read": f"{type(exc).__name__}: {str(exc)[:200]}"}


def _defined_but_gone(stack: EffectiveStack, name: str, part: Part, defined: Sequence[str]) -> Part:
    """A component Compose defines whose containers are all gone is not absent: it was not read."""
    if part.status != ABSENT:
        return part
    if name == "balancer":
        http = stack.definition.spec.components.http
        nodes = [http.balancer] if http is not None and http.balancer in defined else []
    else:
        nodes = stack.settings.roles.members(name, defined) if name in COMPONENTS else []
    return not_read(f"its services ({', '.join(nodes)}) have no container") if nodes else part


def fingerprint(config: EffectiveConfig) -> str:
    """SHA-256 of the configuration alone (each part's status and settings, the stack and Compose
    files): two runs drilled the same configuration when theirs are equal; what held at the moment
    of a read (leaders, backends UP) and how long it took do not count."""
    doc = {"stack": dict(config.stack),
           "parts": {name: {"status": config.part(name).status, "settings": config.part(name).settings}
                     for name in PARTS}}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def changes(before: EffectiveConfig, after: EffectiveConfig) -> list[str]:
    """Each setting that differs between two reads, as `part.path: before -> after`. Parts not read
    on either side are left out: their difference is unknown, not none."""
    found: list[str] = []
    for name in PARTS:
        a, b = before.part(name), after.part(name)
        if NOT_READ in (a.status, b.status):
            continue
        if a.status != b.status:
            found.append(f"{name}: {a.status} -> {b.status}")
            continue
        found += [f"{name}.{path}: {x!r} -> {y!r}" for path, x, y in _diff(a.settings, b.settings)]
    return found


def compared(before: EffectiveConfig, after: EffectiveConfig) -> dict[str, Any]:
    """What a second read at the end of a drill says about the first: the settings that changed, and
    the parts that could not be compared (not read at either end), with why."""
    unknown = {name: (before.part(name).reason if before.part(name).status == NOT_READ else "")
               or after.part(name).reason
               for name in PARTS if NOT_READ in (before.part(name).status, after.part(name).status)}
    return {"read_s": None if after.read_s is None else round(after.read_s, 3), "changes": changes(before, after),
            "not_compared": unknown}


class _Missing:
    def __repr__(self) -> str:
        return "(unset)"


_MISSING = _Missing()


def _diff(a: Any, b: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        out = []
        for key in sorted(set(a) | set(b), key=str):
            sub = f"{path}.{key}" if path else str(key)
            out += _diff(a.get(key, _MISSING), b.get(key, _MISSING), sub)
        return out
    return [] if a == b else [(path, a, b)]
