"""Network partitions with iptables inside the target's namespace.

Only the target's namespace is changed, so one rule set cuts both directions and healing is one
place. `from` names what is cut off: roles (`postgres.*`, `etcd.*`), or `clients` (the host's
published-port traffic and the app services). `direction`: both, in (target hears nothing from
them), out (target cannot send to them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from drills.components import registry
from drills.core.errors import FaultError, StackError
from drills.core.roles import RoleRef
from drills.faults import netns
from drills.faults.actions import HealAction, HealContext
from drills.faults.base import Fault, FaultContext, FaultTarget, Loc, apply, targets
from drills.faults.entry import Entry
from drills.faults.step import StepBase
from drills.spec.types import Role

if TYPE_CHECKING:
    from drills.checkers.protocol import FileView

Rule = tuple[str, ...]


_PEERS = registry.kinds_with("roles")[0]  # a component for the example of `from`'s default


class Partition(StepBase):
    """Cut the target off the network from `from` (default: its own component's other nodes)."""

    fault: Literal["partition"]
    from_: tuple[Role, ...] = Field((), alias="from", description="Roles cut off from the target; `clients` = the "
                                    f"host and the app services. Default: the target's peers ({_PEERS}.* ...).")
    direction: Literal["both", "in", "out"] = Field(
        "both", description="both; in: the target hears nothing from them; out: it cannot send to them.")

    def groups(self) -> list[str]:
        """What the target is cut from; by default the rest of its own component
        (`postgres.leader` -> `postgres.*`)."""
        return list(self.from_) or [self.target.split(".")[0].split("[")[0] + ".*"]


@dataclass(frozen=True)
class IptablesRemove(HealAction):
    """Delete the partition's rules from the container's namespace, and check none is left."""

    kind: ClassVar[str] = "iptables-remove"
    container: str
    rules: tuple[Rule, ...]

    def heal(self, ctx: HealContext) -> None:
        c = ctx.container(self.container)
        if c is None or netns.pid_of(c) is None:
            return  # the namespace, and our rules with it, are gone
        for rule in self.rules:
            # -D removes one copy; loop until none is left (a crash may have left a rule inserted twice).
            for _ in range(8):
                if netns.run(c, ["iptables", "-w", "-D", *rule], check=False).returncode != 0:
                    break
        # Fail closed: a -D that failed for another reason than "no such rule" must not let the fault
        # be recorded as healed (seen once in CI: rules left in place, the ledger saying healed).
        tags = {rule[rule.index("--comment") + 1] for rule in self.rules if "--comment" in rule}
        listing = netns.run(c, ["iptables", "-w", "-S"], check=False)
        left = [line for line in listing.stdout.splitlines() if any(tag in line for tag in tags)]
        if listing.returncode != 0 or left:
            raise FaultError(f"{c.name}: partition rules still in place after removal: "
                             f"{'; '.join(left) or listing.stderr.strip()}",
                             hint="run `drill clean` to retry")


@dataclass(frozen=True)
class NetworkConnect(HealAction):
    """Reconnect a container to a network, with its address and aliases: how partitions were made
    before they became iptables rules; kept so that such ledger entries still heal."""

    kind: ClassVar[str] = "network-connect"
    container: str
    network: str
    ip: str | None = None
    aliases: tuple[str, ...] | None = None

    def heal(self, ctx: HealContext) -> None:
        import docker.errors

        c = ctx.container(self.container)
        if c is None:
            return
        c.reload()
        if self.network in c.attrs["NetworkSettings"]["Networks"]:
            return
        network = ctx.client.networks.get(self.network)
        try:
            network.connect(c, ipv4_address=self.ip, aliases=list(self.aliases) if self.aliases is not None else None)
        except docker.errors.APIError as exc:
            if "already exists" not in str(exc):
                raise


def peer_ips(stack: FaultTarget, groups: list[str], exclude: set[str]) -> list[str]:
    ips: list[str] = []
    for group in groups:
        for c in stack.containers(group):
            if c.name not in exclude:
                ips.append(stack.ip_of(c))
        if group == "clients":
            ips.append(stack.gateway_ip())
    return sorted(set(ips))


def rules_for(ips: list[str], direction: str, tag: str) -> list[Rule]:
    if direction not in {"both", "in", "out"}:
        raise FaultError(f"partition direction must be both, in or out, not {direction!r}")
    comment = ("-m", "comment", "--comment", tag, "-j", "DROP")
    rules: list[Rule] = []
    for ip in ips:
        if direction in {"both", "in"}:
            rules.append(("INPUT", "-s", ip, *comment))
        if direction in {"both", "out"}:
            rules.append(("OUTPUT", "-d", ip, *comment))
    return rules


def partition(step: Partition, ctx: FaultContext) -> Entry:
    found = targets(ctx.stack, step.target)
    groups = step.groups()
    names = {str(c.name) for c in found}
    tag = f"drills-{ctx.fault_id}"
    plan = []
    for c in found:
        ips = peer_ips(ctx.stack, groups, exclude=names)
        if not ips:
            raise FaultError(f"partition of {c.name}: nothing to cut it from ({groups})")
        plan.append((c, rules_for(ips, step.direction, tag)))

    def do() -> None:
        for c, rules in plan:
            for rule in rules:
                netns.run(c, ["iptables", "-w", "-I", *rule])

    return apply(ctx, "partition", [IptablesRemove(str(c.name), tuple(rules)) for c, rules in plan], do)


def _is_target(group: str, target: RoleRef, text: str) -> bool:
    """Whether the nodes of `group` are all nodes of the target (excluded from what it is cut from)."""
    try:
        ref = registry.role(group)
    except StackError:
        return False
    whole = ref.selector == "*" and ref.index is None and target.selector == "*" and target.index is None
    return group.strip() == text.strip() or (ref.group == target.group and whole)


def problems(step: Mapping[str, Any], view: FileView) -> list[tuple[Loc, str]]:
    """A partition that would cut its target off from nothing but itself (`postgres.*` from the
    default `postgres.*`): every node of `from` is a target, and the fault finds nothing to cut."""
    text, given = step.get("target"), step.get("from")
    if not isinstance(text, str) or text.strip() == "same":
        return []  # `same` is the previous step's node, known only when the step runs
    try:
        target = registry.role(text)
    except StackError:
        return []  # the schema reports it
    groups = given if isinstance(given, list) and given else [f"{target.group}.*"]
    if not all(isinstance(g, str) for g in groups) or not all(_is_target(g, target, text) for g in groups):
        return []
    where: Loc = ("from",) if given else ("target",)
    return [(where, f"{text} cut off from {', '.join(groups)}: every node of those is the target itself, so "
                    f"there is nothing to cut it from; cut it from roles other than its own")]


PARTITION = Fault(Partition, partition, heals=(IptablesRemove, NetworkConnect), problems=problems)

KINDS = (PARTITION,)
