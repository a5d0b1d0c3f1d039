"""Latency, jitter and packet loss with tc netem on every interface of the target."""

from __future__ import annotations

from typing import Any

from drills.faults import ledger, netns
from drills.faults.base import FaultTarget, apply, targets


def netem_args(params: dict[str, Any]) -> list[str]:
    args = []
    if params.get("delay_ms"):
        args += ["delay", f"{float(params['delay_ms'])}ms"]
        if params.get("jitter_ms"):
            args += [f"{float(params['jitter_ms'])}ms"]
    if params.get("loss_percent"):
        args += ["loss", f"{float(params['loss_percent'])}%"]
    return args


def netem(stack: FaultTarget, params: dict[str, Any], fault_id: str) -> ledger.Entry:
    found = targets(stack, params["target"])
    args = netem_args(params)
    plan = [(c, dev) for c in found for dev in netns.interfaces(c)]
    heal = [{"action": "tc-remove", "container": c.name, "device": dev} for c, dev in plan]

    def do() -> None:
        for c, dev in plan:
            netns.run(c, ["tc", "qdisc", "replace", "dev", dev, "root", "netem", *args])

    return apply(stack, "netem", fault_id, heal, do)
