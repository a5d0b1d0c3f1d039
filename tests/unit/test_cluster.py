"""The test cluster's pure parts: the plan of `drill cluster up`, its crash-safe record and what
`drill cluster down` derives from it, and the parsing of what `ip`, `iptables`, `docker` and /proc say."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drills.cluster import daemon, lifecycle, netns, state, swarm
from drills.cluster.plan import BRIDGE, DEFAULT_SUBNET, node_for, plan, routes_in_use
from drills.cluster.state import Kind, Record, Resource
from drills.core.errors import SetupError

HOST_ROUTES = """\
default via 192.0.2.1 dev eth0
172.17.0.0/16 dev docker0 proto kernel scope link src 172.17.0.1 linkdown
172.30.127.0/24 dev br-61f65ee8af87 proto kernel scope link src 172.30.127.1
192.0.2.0/24 dev eth0 proto kernel scope link src 192.0.2.2
"""


def test_routes_in_use_skips_the_default_route() -> None:
    assert routes_in_use(HOST_ROUTES) == ["172.17.0.0/16", "172.30.127.0/24", "192.0.2.0/24"]


@pytest.mark.parametrize("count", [1, 2, 3, 9])
def test_the_plan_names_each_node_and_gives_it_an_address_in_the_subnet(count: int) -> None:
    cluster = plan(count, routes_in_use(HOST_ROUTES))
    subnet = ipaddress.IPv4Network(cluster.subnet)
    assert [n.name for n in cluster.nodes] == [f"node-{i}" for i in range(1, count + 1)]
    assert [n.namespace for n in cluster.nodes] == [f"drills-node-{i}" for i in range(1, count + 1)]
    assert len({n.address for n in cluster.nodes}) == count
    for node in cluster.nodes:
        address = ipaddress.IPv4Address(node.address)
        assert address in subnet and address not in (subnet.network_address, subnet.broadcast_address)
        assert len(node.veth) <= 15  # the kernel's limit on interface names
        assert str(node.socket).startswith("/run/drills-cluster/")
    assert cluster.manager.name == "node-1" and cluster.bridge == BRIDGE
    assert not subnet.overlaps(ipaddress.IPv4Network(cluster.pool))


def test_node_for_rebuilds_the_planned_node() -> None:
    assert plan(3, []).nodes[2] == node_for(3, DEFAULT_SUBNET)


@pytest.mark.parametrize("used", ["10.213.0.0/16", "10.213.0.128/25", "10.0.0.0/8", "10.214.3.0/24"])
def test_a_subnet_or_pool_overlapping_a_network_in_use_is_refused_with_the_fix(used: str) -> None:
    with pytest.raises(SetupError) as caught:
        plan(2, [*routes_in_use(HOST_ROUTES), used])
    assert "already in use" in str(caught.value) and "--subnet" in str(caught.value)


def test_another_subnet_clears_the_overlap() -> None:
    assert plan(2, ["10.213.0.0/24"], subnet="10.215.7.0/24").nodes[0].address == "10.215.7.11"


@pytest.mark.parametrize(("count", "subnet"), [(0, DEFAULT_SUBNET), (10, DEFAULT_SUBNET), (3, "10.1.1.0/29"),
                                               (2, "not-a-net"), (2, "10.214.0.0/24")])
def test_impossible_plans_say_what_to_change(count: int, subnet: str) -> None:
    with pytest.raises(SetupError) as caught:
        plan(count, [], subnet=subnet)
    assert caught.value.hint


def test_the_record_round_trips() -> None:
    record = Record("10.213.0.0/24", "10.214.0.0/16", lifecycle.planned(plan(2, [])), ["drills/base:bookworm"])
    assert Record.from_json(record.to_json()) == record
    assert record.nodes() == [1, 2]


def test_each_resource_is_recorded_once_and_on_disk_before_anything_else(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    record = Record("10.213.0.0/24", "10.214.0.0/16")
    for resource in (Resource(Kind.BRIDGE, BRIDGE), Resource(Kind.NETNS, "drills-node-1")):
        state.note(record, resource)
        state.note(record, resource)
        assert state.load() == record  # on disk as soon as noted
    assert len(record.resources) == 2
    state.forget()
    assert state.load() is None


def test_an_unreadable_record_says_down_still_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    state.record_file().write_text("{not json")
    with pytest.raises(SetupError, match="unreadable") as caught:
        state.load()
    assert "drill cluster down" in str(caught.value)


@given(count=st.integers(1, 4), data=st.data())
def test_down_after_a_crash_removes_every_step_taken_daemons_first_bridge_last(count: int, data: st.DataObject) -> None:
    steps = lifecycle.planned(plan(count, []))
    k = data.draw(st.integers(0, len(steps)))
    order = state.teardown(steps[:k])
    assert sorted(order, key=str) == sorted(steps[:k], key=str)
    kinds = [r.kind for r in order]
    assert kinds == sorted(kinds, key=state.TEARDOWN_ORDER.index)


def test_down_also_removes_what_only_the_machine_shows() -> None:
    recorded = [Resource(Kind.BRIDGE, BRIDGE), Resource(Kind.NETNS, "drills-node-1")]
    order = state.with_leftovers(recorded, namespaces=["drills-node-1", "drills-node-2"],
                                 links=[BRIDGE, "drillsc-n2"], nodes=["node-2"], bridge=BRIDGE)
    assert order == [Resource(Kind.DAEMON, "node-2"), Resource(Kind.VETH, "drillsc-n2"),
                     Resource(Kind.NETNS, "drills-node-2"), Resource(Kind.NETNS, "drills-node-1"),
                     Resource(Kind.BRIDGE, BRIDGE)]


IPTABLES = """\
-P FORWARD DROP
-A FORWARD -j DOCKER-USER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A FORWARD -i drillsc0 -o drillsc0 -m comment --comment drills-cluster -j ACCEPT
-A INPUT -i drillsc0 -m comment --comment "drills-cluster" -j ACCEPT
-A FORWARD -i br0 -m comment --comment drills-cluster-other -j ACCEPT
"""


def test_only_rules_tagged_with_the_cluster_comment_are_removed() -> None:
    assert netns.tagged_rules(IPTABLES) == [
        ["FORWARD", "-i", "drillsc0", "-o", "drillsc0", "-m", "comment", "--comment", "drills-cluster", "-j", "ACCEPT"],
        ["INPUT", "-i", "drillsc0", "-m", "comment", "--comment", "drills-cluster", "-j", "ACCEPT"],
    ]
    assert netns.rule_spec() == netns.tagged_rules(IPTABLES)[0]


def test_our_links_are_the_bridge_and_the_host_side_veths() -> None:
    listing = ("1: lo: <LOOPBACK,UP> mtu 65536\n"
               "5: docker0: <BROADCAST> mtu 1500\n"
               "9: drillsc0: <BROADCAST,UP> mtu 1500\n"
               "10: drillsc-n1@if2: <BROADCAST,UP> mtu 1500\n"
               "11: drillsc-n12@if2: <BROADCAST,UP> mtu 1500\n"
               "12: drillsc-nx@if2: <BROADCAST,UP> mtu 1500\n")
    assert netns.our_links(listing) == ["drillsc0", "drillsc-n1", "drillsc-n12"]


def test_docker_info_and_node_ls_are_parsed() -> None:
    info = swarm.parse_info('{"LocalNodeState":"active","NodeID":"abc","ControlAvailable":true,'
                            '"Cluster":{"ID":"xyz"}}')
    assert info == swarm.LocalSwarm("active", "abc", "xyz", True)
    assert swarm.parse_info('{"LocalNodeState":"inactive","NodeID":"","Cluster":null}').state == "inactive"
    nodes = swarm.parse_node_ls(
        '{"Hostname":"vm","ID":"abc","Status":"Ready","Availability":"Active","ManagerStatus":"Leader"}\n'
        '{"Hostname":"vm","ID":"def","Status":"Down","Availability":"Active","ManagerStatus":""}\n')
    assert [(n.node_id, n.role, n.status) for n in nodes] == [("abc", "manager", "Ready"), ("def", "worker", "Down")]


def test_a_nodes_processes_are_found_by_its_own_paths_only() -> None:
    cmdlines = {
        10: "/usr/sbin/dockerd --exec-root /run/drills-cluster/node-1.exec -H unix:///run/drills-cluster/node-1.sock",
        11: "/usr/sbin/dockerd --exec-root /run/drills-cluster/node-10.exec -H unix:///run/drills-cluster/node-10.sock",
        12: "docker -H unix:///run/drills-cluster/node-1.sock ps",
        13: "containerd --config /run/drills-cluster/node-1.exec/containerd/containerd.toml",
        14: "/usr/sbin/dockerd",
    }
    assert daemon.processes_mentioning(cmdlines, ["/run/drills-cluster/node-1.sock"], ("dockerd", "nsenter")) == [10]
    assert daemon.processes_mentioning(cmdlines, ["/run/drills-cluster/node-1.exec"]) == [10, 13]


def test_leftover_processes_come_with_their_children_parents_first() -> None:
    parents = {13: 1, 20: 13, 21: 20, 22: 21, 30: 1, 31: 30}
    assert daemon.with_descendants(parents, [13]) == [13, 20, 21, 22]


def test_mounts_below_a_root_are_unmounted_deepest_first() -> None:
    mountinfo = (
        "25 1 254:0 / / rw - ext4 /dev/vda rw\n"
        "90 25 0:50 / /root/.local/state/drills/cluster/node-1/overlay2/abc/merged rw - overlay overlay rw\n"
        "91 25 0:4 net:[1] /run/drills-cluster/node-1.exec/netns/1-xyz rw - nsfs nsfs rw\n"
        "92 25 0:51 / /root/.local/state/drills/cluster/node-10/x rw - overlay overlay rw\n"
        "93 25 0:52 / /root/.local/state/drills/cluster/node-1/with\\040space rw - tmpfs tmpfs rw\n"
    )
    root = Path("/root/.local/state/drills/cluster/node-1")
    assert daemon.mounts_below(mountinfo, root) == [
        "/root/.local/state/drills/cluster/node-1/overlay2/abc/merged",
        "/root/.local/state/drills/cluster/node-1/with space",
    ]
