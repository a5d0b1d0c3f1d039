"""Faults (the nemesis): each fault module injects its kinds of fault and knows how to heal them.

    step      StepBase: what every fault step of a scenario has (target, hold, heal)
    actions   HealAction: a typed, JSON-able record of how to undo a fault; HealContext
    base      the protocol: Fault (step model, inject, heal actions), FaultContext, apply, targets
    entry     a ledger entry and the writes a fault makes to the ledger
    ledger    reading the ledger back: pending and orphaned faults
    heal      running the heal actions of ledger entries
    registry  every fault kind, collected from the fault modules' KINDS
    netns     iptables and tc inside a container's network namespace

Every other module is a fault module (`process`, `partition`, `disk_full`, ...), found by the
registry: adding a fault kind adds a module here and touches nothing else.

Every applied fault is written to the ledger before it is applied, and its heal is data in that
ledger entry, so any later `drill` process can heal what a killed runner left behind.
"""
