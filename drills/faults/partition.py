"""Network partitions with iptables inside the target's namespace.

Only the target's namespace is changed, so one rule set cuts both directions and healing is one
place. `from` names what is cut off: roles (`postgres.*`, `etcd.*`), or `clients` (the host's
published-port traffic and the app services). `direction`: both, in (target hears nothing from
them), out (target cannot send to them).
"""

from __future__ import annotations

from typing import Any

from drills.errors import FaultError
from drills.faults import ledger, netns
from drills.faults.base import FaultTarget, apply, targets


def peer_ips(stack: FaultTarget, groups: list[str], exclude: set[str]) -> list[str]:
    ips: list[str] = []
    for group in groups:
        for c in stack.containers(group):
            if c.name not in exclude:
                ips.append(stack.ip_of(c))
        if group == "clients":
            ips.append(stack.gateway_ip())
    return sorted(set(ips))


def rules_for(ips: list[str], direction: str, tag: str) -> list[list[str]]:
    if direction not in {"both", "in", "out"}:
        raise FaultError(f"partition direction must be both, in or out, not {direction!r}")
    comment = ["-m", "comment", "--comment", tag, "-j", "DROP"]
    rules = []
    for ip in ips:
        if direction in {"both", "in"}:
            rules.append(["INPUT", "-s", ip, *comment])
        if direction in {"both", "out"}:
            rules.append(["OUTPUT", "-d", ip, *comment])
    return rules


def partition(stack: FaultTarget, params: dict[str, Any], fault_id: str) -> ledger.Entry:
    found = targets(stack, params["target"])
    # By default a node is cut from the rest of its own component (`postgres.leader` -> `postgres.*`).
    groups = list(params.get("from") or [params["target"].split(".")[0].split("[")[0] + ".*"])
    names = {str(c.name) for c in found}
    tag = f"drills-{fault_id}"
    plan = []
    for c in found:
        ips = peer_ips(stack, groups, exclude=names)
        if not ips:
            raise FaultError(f"partition of {c.name}: nothing to cut it from ({groups})")
        plan.append((c, rules_for(ips, params.get("direction", "both"), tag)))
    heal = [{"action": "iptables-remove", "container": c.name, "rules": rules} for c, rules in plan]

    def do() -> None:
        for c, rules in plan:
            for rule in rules:
                netns.run(c, ["iptables", "-w", "-I", *rule])

    return apply(stack, "partition", fault_id, heal, do)
