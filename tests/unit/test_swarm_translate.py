"""The Compose model made a `docker stack deploy` file: one replica per service on its node, dnsrr,
attachable overlay networks; what Swarm cannot run refused with the service and the fix."""

from __future__ import annotations

from typing import Any

import pytest

from drills.core.errors import StackError
from drills.stack.definition import RoleMap
from drills.stack.swarm_spec import SwarmSpec
from drills.stack.swarm_translate import constraint, placements, translate

# `docker compose config --format json` of a small stack, as Compose 2 prints it.
MODEL: dict[str, Any] = {
    "name": "demo",
    "networks": {"net": {"name": "demo_net", "ipam": {"config": [{"subnet": "172.30.9.0/24"}]}}},
    "services": {
        "pg1": {
            "command": ["sleep", "infinity"], "container_name": "pg1", "entrypoint": None,
            "depends_on": {"etcd1": {"condition": "service_healthy", "required": True}},
            "healthcheck": {"test": ["CMD", "true"], "interval": "2s", "start_interval": "1s"},
            "image": "drills/patroni:abc", "networks": {"net": {"aliases": ["db"]}},
            "ports": [{"mode": "ingress", "host_ip": "127.0.0.1", "target": 5432, "protocol": "tcp"}],
            "restart": "unless-stopped",
            "volumes": [{"type": "bind", "source": "/srv/conf", "target": "/conf", "read_only": True,
                         "bind": {"create_host_path": True}},
                        {"type": "volume", "source": "data", "target": "/data", "volume": {}}],
        },
        "etcd1": {"image": "drills/etcd:abc", "networks": {"net": None}, "restart": "no",
                  "depends_on": {"x": {"condition": "service_started"}}},
    },
    "volumes": {"data": {"name": "demo_data"}},
}


def test_each_service_one_replica_on_its_node_dnsrr_and_the_networks_attachable_overlays() -> None:
    done = translate(MODEL, {"pg1": "node-2", "etcd1": "node-1"}, "demo")
    pg1 = done.model["services"]["pg1"]
    assert pg1["deploy"] == {"mode": "replicated", "replicas": 1, "endpoint_mode": "dnsrr",
                             "restart_policy": {"condition": "any"},
                             "placement": {"constraints": ["node.labels.io.drills.node == node-2"]}}
    assert done.model["services"]["etcd1"]["deploy"]["restart_policy"] == {"condition": "none"}
    assert done.model["networks"] == {"net": {"driver": "overlay", "attachable": True,
                                              "ipam": {"config": [{"subnet": "172.30.9.0/24"}]}}}
    assert done.model["volumes"] == {"data": {}}  # the stack's namespace names it
    assert done.model["version"] == "3.8"
    # Each task's container is found by the labels a Compose container of the project has.
    assert pg1["labels"] == {"com.docker.compose.project": "demo", "com.docker.compose.service": "pg1"}
    assert pg1["networks"] == {"net": {"aliases": ["db"]}} and pg1["healthcheck"] == {
        "test": ["CMD", "true"], "interval": "2s"}
    assert pg1["volumes"] == [{"type": "bind", "source": "/srv/conf", "target": "/conf", "read_only": True},
                              {"type": "volume", "source": "data", "target": "/data"}]
    for gone in ("container_name", "depends_on", "ports", "restart", "entrypoint"):
        assert gone not in pg1
    assert any(n.startswith("pg1: ports dropped (no routing mesh") for n in done.notes)
    assert any(n.startswith("pg1: depends_on dropped") for n in done.notes)
    assert not any(n.startswith("etcd1: depends_on") for n in done.notes)  # a start order only: Swarm's anyway


def test_a_service_not_placed_runs_anywhere_and_a_deploy_of_its_own_is_kept() -> None:
    model = {"services": {"web": {"image": "x", "deploy": {"restart_policy": {"condition": "on-failure"},
                                                           "placement": {"constraints": ["node.role == worker"]}}}}}
    deploy = translate(model, {}, "demo").model["services"]["web"]["deploy"]
    assert deploy["restart_policy"] == {"condition": "on-failure"}
    assert deploy["placement"] == {"constraints": ["node.role == worker"]}
    deploy = translate(model, {"web": "node-3"}, "demo").model["services"]["web"]["deploy"]
    assert deploy["placement"]["constraints"] == ["node.role == worker", constraint("node-3")]


@pytest.mark.parametrize(("service", "problem"), [
    ({"build": {"context": "."}}, "web: build: without image"),
    ({"image": "x", "networks": {"net": {"ipv4_address": "172.30.9.5"}}},
     "web: ipv4_address on net: Swarm gives a task its address; reach it by name (web, or tasks.web)"),
    ({"image": "x", "network_mode": "host"}, "web: network_mode is not something `docker stack deploy` runs"),
    ({"image": "x", "deploy": {"replicas": 3}}, "web: deploy asks for 3 replicas"),
    ({"image": "x", "deploy": {"endpoint_mode": "vip"}}, "web: endpoint_mode vip: this kernel has no IPVS"),
    ({"image": "x", "volumes": [{"type": "npipe", "source": "a", "target": "b"}]}, "web: a npipe mount"),
])
def test_what_swarm_cannot_run_is_refused_naming_the_service(service: dict[str, Any], problem: str) -> None:
    with pytest.raises(StackError) as raised:
        translate({"services": {"web": service}}, {}, "demo")
    assert problem in str(raised.value) and "fix:" in str(raised.value)


def test_every_problem_is_told_at_once_and_a_build_with_an_image_only_noted() -> None:
    with pytest.raises(StackError) as raised:
        translate({"services": {"a": {"image": "x", "privileged": True}, "b": {"image": "y", "pid": "host"}},
                   "secrets": {"s": {"environment": "S"}}}, {}, "demo")
    text = str(raised.value)
    assert "a: privileged" in text and "b: pid" in text and "secret s: Swarm takes a secret from a file only" in text
    done = translate({"services": {"a": {"image": "x", "build": {"context": "."}}}}, {}, "demo")
    assert "build" not in done.model["services"]["a"]
    assert done.notes == ("a: build dropped (the image x must be on every node: `drill cluster up --images`)",)


def test_a_bridge_network_becomes_an_overlay_with_a_note_and_an_external_one_is_left_alone() -> None:
    networks = {"n": {"driver": "bridge", "name": "p_n"}, "e": {"external": True, "name": "shared"}}
    done = translate({"services": {"a": {"image": "x"}}, "networks": networks}, {}, "demo")
    assert done.model["networks"] == {"n": {"driver": "overlay", "attachable": True},
                                      "e": {"external": True, "name": "shared"}}
    assert done.notes == ("network n: driver bridge made overlay (a network across the nodes)",)
    with pytest.raises(StackError, match="network m: driver macvlan"):
        translate({"services": {}, "networks": {"m": {"driver": "macvlan"}}}, {}, "demo")


SERVICES = ["etcd1", "etcd2", "etcd3", "pg1", "pg2", "pg3", "web"]
ROLES = RoleMap.build({"postgres": ["pg1", "pg2", "pg3"]}, {})


def test_placements_from_the_map_then_each_spread_group_one_per_node() -> None:
    spec = SwarmSpec(placement={"web": "node-1"}, spread=["postgres", "etcd"])
    assert placements(spec, ROLES, SERVICES, ["node-1", "node-2", "node-3"]) == {
        "web": "node-1", "pg1": "node-1", "pg2": "node-2", "pg3": "node-3",
        "etcd1": "node-1", "etcd2": "node-2", "etcd3": "node-3"}
    # A group larger than the swarm wraps around: three replicas on two nodes.
    assert placements(SwarmSpec(spread=["etcd"]), ROLES, SERVICES, ["node-1", "node-2"]) == {
        "etcd1": "node-1", "etcd2": "node-2", "etcd3": "node-1"}


@pytest.mark.parametrize(("spec", "problem"), [
    (SwarmSpec(placement={"pg1": "node-3"}), "pg1 is placed on node-3, but the swarm has node-1, node-2"),
    (SwarmSpec(placement={"pg9": "node-1"}), "placement: pg9 is no service of the stack"),
    (SwarmSpec(spread=["mongo"]), "spread: mongo is neither a role nor a group of services"),
    (SwarmSpec(spread=["postgres", "pg"]), "spread: pg places pg1, placed on node-1 already"),
])
def test_a_placement_that_does_not_fit_the_swarm_is_refused(spec: SwarmSpec, problem: str) -> None:
    with pytest.raises(StackError) as raised:
        placements(spec, ROLES, SERVICES, ["node-1", "node-2"])
    assert problem in str(raised.value) and "drill cluster up --nodes N" in str(raised.value)
