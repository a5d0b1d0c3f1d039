"""Faults (the nemesis): each module injects one kind of fault and knows how to heal it.

Every applied fault is written to the ledger before it is applied, and its heal is data in that
ledger entry, so any later `drill` process can heal what a killed runner left behind.
"""
