"""Latency, jitter and packet loss with tc netem on every interface of the target."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from pydantic import Field

from drills.faults import netns
from drills.faults.actions import HealAction, HealContext
from drills.faults.base import Fault, FaultContext, apply, targets
from drills.faults.entry import Entry
from drills.faults.step import StepBase
from drills.spec.types import Duration, Float


class Latency(StepBase):
    """Delay every packet the target sends (tc netem)."""

    fault: Literal["latency"]
    delay: Duration = Field(..., description="Added one-way delay, e.g. 200ms.")
    jitter: Duration | None = Field(None, description="Random variation of the delay, e.g. 50ms.")

    def netem_args(self) -> list[str]:
        args = ["delay", f"{self.delay * 1000}ms"] if self.delay else []
        if self.delay and self.jitter:
            args.append(f"{self.jitter * 1000}ms")
        return args


class Loss(StepBase):
    """Drop a share of the packets the target sends (tc netem)."""

    fault: Literal["loss"]
    percent: Float = Field(..., gt=0, le=100, description="Packets dropped, in percent.")

    def netem_args(self) -> list[str]:
        return ["loss", f"{float(self.percent)}%"]


@dataclass(frozen=True)
class TcRemove(HealAction):
    """Remove the netem queueing discipline from one interface of the container."""

    kind: ClassVar[str] = "tc-remove"
    container: str
    device: str

    def heal(self, ctx: HealContext) -> None:
        c = ctx.container(self.container)
        if c is None or netns.pid_of(c) is None:
            return
        netns.run(c, ["tc", "qdisc", "del", "dev", self.device, "root"], check=False)


def netem(step: Latency | Loss, ctx: FaultContext) -> Entry:
    found = targets(ctx.stack, step.target)
    args = step.netem_args()
    plan = [(c, dev) for c in found for dev in netns.interfaces(c)]

    def do() -> None:
        for c, dev in plan:
            netns.run(c, ["tc", "qdisc", "replace", "dev", dev, "root", "netem", *args])

    return apply(ctx, "netem", [TcRemove(str(c.name), dev) for c, dev in plan], do)


LATENCY = Fault(Latency, netem, heals=(TcRemove,))
LOSS = Fault(Loss, netem, heals=(TcRemove,))

KINDS = (LATENCY, LOSS)
