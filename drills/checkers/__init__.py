"""Checkers: pure functions from a history (and the final state) to verdicts.

They never talk to the system, so each is unit-tested on synthetic histories.
"""
