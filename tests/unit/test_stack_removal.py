"""Removing a project by its label (drills.stack.removal) against a small stand-in engine: endpoints
the engine still holds are detached by force (a live container's by id, a stale one's by name), a
container of another project is never detached, containers go with their anonymous volumes, and
what the engine refuses comes back as a leftover with its command, never raised."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import docker.errors
import pytest
from hypothesis import given
from hypothesis import strategies as st

from drills.core import local_state
from drills.core.dockerlabels import PROJECT_LABEL
from drills.stack.presence import describe_left
from drills.stack.removal import Leftover, remove_network, remove_project

PROJECT = "drills-abc123"
OTHER = "drills-other1"
NET = f"{PROJECT}_stack"


@pytest.fixture(autouse=True)
def state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    monkeypatch.setattr("drills.stack.removal.NETWORK_PAUSE_S", 0.0)  # the refusals are the stand-in's


def refused(why: str) -> docker.errors.APIError:
    return docker.errors.APIError("403 Client Error", explanation=why)


@dataclass
class StandInContainer:
    id: str
    name: str
    labels: dict[str, str]
    anonymous: list[str] = field(default_factory=list)  # volumes an image's VOLUME gave it
    refuse: str = ""  # the engine refuses to remove it, with these words
    engine: Engine | None = None

    def remove(self, force: bool = False, v: bool = False) -> None:
        assert self.engine is not None and force
        if self.refuse:
            raise refused(self.refuse)
        del self.engine.containers[self.id]
        if v:
            for name in self.anonymous:
                self.engine.volumes.pop(name, None)
        for net in self.engine.networks.values():  # the engine releases the endpoint, unless it lingers
            if self.id in net.endpoints and self.id not in self.engine.lingering:
                del net.endpoints[self.id]


@dataclass
class StandInVolume:
    name: str
    labels: dict[str, str]
    in_use: bool = False
    engine: Engine | None = None

    @property
    def attrs(self) -> dict[str, Any]:
        return {"Labels": self.labels}

    def remove(self, force: bool = False) -> None:
        assert self.engine is not None
        if self.in_use:
            raise refused(f"remove {self.name}: volume is in use")
        del self.engine.volumes[self.name]


@dataclass
class StandInNetwork:
    name: str
    labels: dict[str, str]
    endpoints: dict[str, str] = field(default_factory=dict)  # key ("<container id>" or "ep-<id>") -> name
    drifted: bool = False  # the engine counts an endpoint it no longer lists: refused for good
    engine: Engine | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    disconnected: list[str] = field(default_factory=list)
    removals: int = 0

    @property
    def client(self) -> Any:  # docker-py's models hold the client that made them
        assert self.engine is not None
        return client_of(self.engine)

    def reload(self) -> None:
        self.attrs = {"Labels": self.labels,
                      "Containers": {key: {"Name": name, "EndpointID": key} for key, name in self.endpoints.items()}}

    def disconnect(self, handle: str, force: bool = False) -> None:
        assert self.engine is not None
        if handle in self.engine.containers:
            self.endpoints.pop(handle, None)
        elif force and handle in self.endpoints.values():  # the daemon's ForceEndpointDelete: by name only
            self.endpoints = {k: n for k, n in self.endpoints.items() if n != handle}
        else:
            raise docker.errors.NotFound(f"No such container: {handle}")
        self.disconnected.append(handle)

    def remove(self) -> None:
        assert self.engine is not None
        self.removals += 1
        if self.endpoints or self.drifted:
            raise refused(f"error while removing network: network {self.name} id 0123 has active endpoints")
        del self.engine.networks[self.name]


class Collection:
    def __init__(self, items: dict[str, Any]) -> None:
        self.items = items

    def list(self, all: bool = False, filters: dict[str, str] | None = None,
             ignore_removed: bool = False) -> list[Any]:
        key, _, value = (filters or {})["label"].partition("=")
        return [i for i in list(self.items.values()) if i.labels.get(key) == value]

    def get(self, key: str) -> Any:
        if key not in self.items:
            raise docker.errors.NotFound(f"No such container: {key}")
        return self.items[key]


@dataclass
class Engine:
    containers: dict[str, StandInContainer] = field(default_factory=dict)
    networks: dict[str, StandInNetwork] = field(default_factory=dict)
    volumes: dict[str, StandInVolume] = field(default_factory=dict)
    lingering: set[str] = field(default_factory=set)  # containers whose endpoint outlives them

    def container(self, name: str, project: str = PROJECT, *, network: str | None = NET,
                  anonymous: int = 0, linger: bool = False, refuse: str = "") -> StandInContainer:
        c = StandInContainer(f"id-{name}", name, {PROJECT_LABEL: project}, refuse=refuse, engine=self)
        c.anonymous = [f"anon-{name}-{i}" for i in range(anonymous)]
        for volume in c.anonymous:
            self.volumes[volume] = StandInVolume(volume, {}, engine=self)  # unlabelled, as Docker makes them
        self.containers[c.id] = c
        if network is not None:
            self.networks[network].endpoints[c.id] = name
        if linger:
            self.lingering.add(c.id)
        return c

    def network(self, name: str = NET, project: str = PROJECT, **kw: Any) -> StandInNetwork:
        self.networks[name] = StandInNetwork(name, {PROJECT_LABEL: project}, engine=self, **kw)
        return self.networks[name]

    def volume(self, name: str, project: str = PROJECT, in_use: bool = False) -> StandInVolume:
        self.volumes[name] = StandInVolume(name, {PROJECT_LABEL: project}, in_use=in_use, engine=self)
        return self.volumes[name]


@dataclass
class Client:
    """The engine as docker-py's client shows it."""

    containers: Collection
    networks: Collection
    volumes: Collection


def client_of(engine: Engine) -> Any:
    return Client(Collection(engine.containers), Collection(engine.networks), Collection(engine.volumes))


def no_sleep(_: float) -> None:
    pass


def test_a_project_goes_whole_its_containers_with_their_anonymous_volumes():
    engine = Engine()
    engine.network()
    engine.network(f"{OTHER}_stack", OTHER)
    engine.container("etcd1", anonymous=1)
    engine.container("pg1")
    engine.volume(f"{PROJECT}_pg1-data")
    theirs = engine.container("theirs", OTHER, network=f"{OTHER}_stack", anonymous=1)
    engine.volume(f"{OTHER}_data", OTHER)
    local_state.register_owner(PROJECT, "run")

    done = remove_project(client_of(engine), PROJECT)

    assert done.left == []
    assert sorted(done.removed) == sorted(["container etcd1", "container pg1", f"network {NET}",
                                           f"volume {PROJECT}_pg1-data"])
    assert "anon-etcd1-0" not in engine.volumes, "an anonymous volume goes with its container (v=True)"
    assert set(engine.volumes) == {"anon-theirs-0", f"{OTHER}_data"}, "another project's volumes stay"
    assert theirs.id in engine.containers and f"{OTHER}_stack" in engine.networks
    assert PROJECT not in {o.project for o in local_state.owners()}, "nothing left: the records go"


def test_an_endpoint_the_engine_keeps_after_its_container_is_gone_is_detached_by_name():
    engine = Engine()
    net = engine.network()
    engine.container("pg1", linger=True)  # its endpoint outlives it, still listed under its id
    net.endpoints["ep-5f2e"] = "drills-abc123-rabbit2-1"  # a stale endpoint: no container behind it

    done = remove_project(client_of(engine), PROJECT)

    assert done.left == [] and f"network {NET}" in done.removed
    assert NET not in engine.networks
    assert set(net.disconnected) == {"pg1", "drills-abc123-rabbit2-1"}, "by name: no container answers to the id"
    assert net.removals == 1, "detached before the first removal: no refusal to wait out"


def test_a_network_the_engine_refuses_for_good_is_a_leftover_with_its_command_and_the_records_stay():
    engine = Engine()
    net = engine.network(drifted=True)
    local_state.register_owner(PROJECT, "run")
    naps: list[float] = []

    outcome = remove_network(net, PROJECT, attempts=4, pause_s=0.5, sleep=naps.append)

    assert isinstance(outcome, Leftover)
    assert outcome.command == f"docker network rm {NET}"
    assert "active endpoints" in outcome.why and "restart the Docker daemon" in outcome.why
    assert f"`docker network rm {NET}` removes it" in str(outcome)
    assert net.removals == 4 and naps == [0.5] * 3
    done = remove_project(client_of(engine), PROJECT)  # and through the whole removal: said, not raised
    assert [left.what for left in done.left] == [f"network {NET}"]
    assert PROJECT in {o.project for o in local_state.owners()}, "kept, so the next `drill clean` tries again"


def test_another_projects_container_is_never_detached_and_the_network_is_left_with_the_commands():
    engine = Engine()
    net = engine.network()
    intruder = engine.container("intruder", OTHER)  # a container of another project, on our network

    outcome = remove_network(net, PROJECT, sleep=no_sleep)

    assert isinstance(outcome, Leftover)
    assert net.disconnected == [] and intruder.id in net.endpoints
    assert outcome.command == f"docker network disconnect -f {NET} intruder && docker network rm {NET}"
    assert f"intruder, not of {PROJECT}" in outcome.why
    assert net.removals == 1, "no retry: waiting does not detach it"


def test_containers_and_volumes_the_engine_refuses_are_leftovers_with_their_commands():
    engine = Engine()
    engine.network()
    engine.container("pg2", network=None, refuse="removal of container pg2 is already in progress")
    engine.volume(f"{PROJECT}_pg2-data", in_use=True)

    done = remove_project(client_of(engine), PROJECT)

    assert [(left.what, left.command) for left in done.left] == [
        ("container pg2", "docker rm -f -v pg2"),
        (f"volume {PROJECT}_pg2-data", f"docker volume rm {PROJECT}_pg2-data")]
    assert "already in progress" in done.left[0].why and "in use" in done.left[1].why
    assert done.removed == [f"network {NET}"]


def test_another_refusal_is_not_asked_again():
    engine = Engine()
    net = engine.network()

    def broken() -> None:
        net.removals += 1
        raise docker.errors.APIError("500 Server Error", explanation="error while removing network: ipam failure")

    net.remove = broken  # type: ignore[method-assign]
    outcome = remove_network(net, PROJECT, sleep=no_sleep)
    assert isinstance(outcome, Leftover) and outcome.why.endswith("ipam failure") and net.removals == 1


def test_a_network_already_gone_is_neither_removed_nor_left():
    engine = Engine()
    net = engine.network()
    del engine.networks[NET]

    def gone() -> None:
        raise docker.errors.NotFound("network not found")

    net.reload = gone  # type: ignore[method-assign]
    net.remove = gone  # type: ignore[method-assign]
    assert remove_network(net, PROJECT, sleep=no_sleep) == "gone"


endpoint_kinds = st.lists(st.sampled_from(["live", "lingering", "stale", "foreign"]), max_size=6)


@given(kinds=endpoint_kinds, drifted=st.booleans())
def test_removal_never_raises_and_removes_exactly_what_it_may(kinds, drifted):
    """Whatever the engine holds on the network: the removal never raises, never detaches a container
    of another project, and removes the network unless another project's container or a drifted
    count keeps it, in which case it says so with a command."""
    engine = Engine()
    net = engine.network(drifted=drifted)
    foreign = []
    for i, kind in enumerate(kinds):
        if kind == "stale":
            net.endpoints[f"ep-{i}"] = f"gone-{i}"
        elif kind == "foreign":
            foreign.append(engine.container(f"foreign-{i}", OTHER).id)
        else:
            engine.container(f"own-{i}", linger=kind == "lingering")

    done = remove_project(client_of(engine), PROJECT)

    assert all(f in engine.containers and f in net.endpoints for f in foreign), "another project's stays attached"
    assert not any("foreign" in handle for handle in net.disconnected)
    if foreign or drifted:
        assert NET in engine.networks
        [left] = done.left
        assert left.command.endswith(f"docker network rm {NET}")
    else:
        assert NET not in engine.networks and done.left == [] and f"network {NET}" in done.removed
    assert not any(c.labels[PROJECT_LABEL] == PROJECT for c in engine.containers.values())


def test_what_a_failed_stack_up_left_is_said_with_the_command_that_removes_it():
    containers = [{"Labels": {PROJECT_LABEL: PROJECT, "com.docker.compose.service": s}, "State": "running",
                   "Names": [f"/{PROJECT}-{s}-1"]} for s in ("pg1", "etcd1")]
    containers.append({"Labels": {PROJECT_LABEL: PROJECT}, "State": "exited", "Names": [f"/{PROJECT}-helper"]})
    line = describe_left(PROJECT, containers, [NET], [f"{PROJECT}_pg1-data", f"{PROJECT}_pg2-data"])
    assert line == (f"left running: {PROJECT}: containers 1 exited ({PROJECT}-helper), 2 running (etcd1, pg1), "
                    f"network {NET}, 2 volumes; `drill stack down --project {PROJECT}` removes it")
    assert describe_left(PROJECT, [], [], []) == f"nothing of {PROJECT} is left (no container, network or volume)"


def test_drill_clean_says_what_the_engine_refused_as_an_error_with_its_command(monkeypatch):
    from drills.run.cleanup import clean

    engine = Engine()
    engine.network(drifted=True)
    engine.container("pg1", anonymous=1)
    local_state.register_owner(PROJECT, "run")
    monkeypatch.setattr("drills.run.cleanup.existing_projects", lambda client: {PROJECT})

    report = clean(client_of(engine), everything=True, only=PROJECT)

    assert report.removed == [f"{PROJECT}: container pg1"]
    [error] = report.errors  # `drill clean` exits 3 on it
    assert error.startswith(f"{PROJECT}: network {NET} is left (")
    assert error.endswith(f"`docker network rm {NET}` removes it")
    assert PROJECT in {o.project for o in local_state.owners()}, "kept for the next `drill clean`"
