"""The cluster's wiring: a host bridge without an address, a namespace and veth pair per node, and
one FORWARD rule accepting traffic from the bridge to the bridge (the host's FORWARD policy may be
DROP, and with br_netfilter bridged frames pass through it). Nothing routes a node to the host or
beyond: traffic stays between the namespaces.

Every create is a no-op when the thing exists; every remove is a no-op when it does not.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from drills.cluster.commands import attempt, run
from drills.cluster.plan import BRIDGE, NAMESPACE_PREFIX, RULE_COMMENT, VETH_PREFIX, NodePlan

NETNS_DIR = Path("/run/netns")
_FIX = "run `drill cluster down`, then `drill cluster up` again"


def rule_spec(bridge: str = BRIDGE) -> list[str]:
    return ["FORWARD", "-i", bridge, "-o", bridge, "-m", "comment", "--comment", RULE_COMMENT, "-j", "ACCEPT"]


def link_exists(name: str) -> bool:
    return attempt(["ip", "link", "show", "dev", name]).returncode == 0


def namespace_exists(name: str) -> bool:
    return (NETNS_DIR / name).exists()


def rule_exists(bridge: str = BRIDGE) -> bool:
    return attempt(["iptables", "-w", "-C", *rule_spec(bridge)]).returncode == 0


def create_bridge(bridge: str = BRIDGE) -> None:
    if not link_exists(bridge):
        run(["ip", "link", "add", bridge, "type", "bridge"], hint=_FIX)
    run(["ip", "link", "set", bridge, "up"], hint=_FIX)


def create_rule(bridge: str = BRIDGE) -> None:
    # Appended: the engine's own FORWARD rules stay first and untouched; they match only its bridges.
    if not rule_exists(bridge):
        run(["iptables", "-w", "-A", *rule_spec(bridge)], hint=_FIX)


def create_namespace(node: NodePlan) -> None:
    if not namespace_exists(node.namespace):
        run(["ip", "netns", "add", node.namespace], hint=_FIX)
    run(["ip", "-n", node.namespace, "link", "set", "lo", "up"], hint=_FIX)


def create_veth(node: NodePlan, bridge: str = BRIDGE) -> None:
    if not link_exists(node.veth):
        run(["ip", "link", "add", node.veth, "type", "veth", "peer", "name", "eth0", "netns", node.namespace],
            hint=_FIX)
    run(["ip", "link", "set", node.veth, "master", bridge, "up"], hint=_FIX)
    cidr = f"{node.address}/{node.prefix}"
    shown = run(["ip", "-n", node.namespace, "-4", "-o", "addr", "show", "dev", "eth0"], hint=_FIX)
    if f" {cidr} " not in shown:
        run(["ip", "-n", node.namespace, "addr", "add", cidr, "dev", "eth0"], hint=_FIX)
    run(["ip", "-n", node.namespace, "link", "set", "eth0", "up"], hint=_FIX)


def remove_link(name: str) -> bool:
    """Delete a link (a veth's peer goes with it); True when there was one."""
    if not link_exists(name):
        return False
    run(["ip", "link", "del", name], hint="see `ip link show`; delete it with `ip link del NAME`")
    return True


def remove_namespace(name: str) -> bool:
    if not namespace_exists(name):
        return False
    run(["ip", "netns", "del", name], hint="a process may still run in it: see `ip netns pids NAME`")
    return True


def remove_rules() -> list[str]:
    """Delete every rule tagged with the cluster's comment, in any chain of the filter table."""
    removed = []
    for spec in tagged_rules(run(["iptables", "-w", "-S"], hint="is iptables installed?")):
        run(["iptables", "-w", "-D", *spec], hint="see `iptables -S | grep drills-cluster`")
        removed.append(" ".join(spec))
    return removed


def tagged_rules(listing: str, comment: str = RULE_COMMENT) -> list[list[str]]:
    """The rules of `iptables -S` output carrying `comment`, as argument lists for `iptables -D`."""
    found = []
    for line in listing.splitlines():
        words = shlex.split(line)
        if len(words) < 2 or words[0] != "-A":
            continue
        if any(w == "--comment" and i + 1 < len(words) and words[i + 1] == comment for i, w in enumerate(words)):
            found.append(words[1:])
    return found


def our_namespaces() -> list[str]:
    """Namespaces by the cluster's name pattern: what a crash left before its record was readable."""
    if not NETNS_DIR.is_dir():
        return []
    return sorted(p.name for p in NETNS_DIR.iterdir() if re.fullmatch(rf"{NAMESPACE_PREFIX}\d+", p.name))


def our_links(link_output: str) -> list[str]:
    """Our bridge and host-side veths in `ip -o link show` output."""
    found = []
    for line in link_output.splitlines():
        match = re.match(r"\d+:\s+([^:@\s]+)", line)
        if match and (match.group(1) == BRIDGE or re.fullmatch(rf"{VETH_PREFIX}\d+", match.group(1))):
            found.append(match.group(1))
    return found


def observed_links() -> list[str]:
    return our_links(run(["ip", "-o", "link", "show"], hint="is iproute2 installed?"))
