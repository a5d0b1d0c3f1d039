"""Checkers: pure functions from a history (and the final state) to verdicts.

    availability.py   outage windows, error rates, RTO of one signal
    lost_writes.py    acknowledged writes absent from the final read (RPO)
    queue.py          confirmed messages never consumed after a drain; duplicates
    resync.py         every member back and in sync after the heal
    steady_state.py   success rate before the fault and after recovery
    verdict.py        Verdict and Status: PASS, FAIL, NOT_MEASURED (never PASS for the unmeasured)

They never talk to the system, so each is unit-tested on synthetic histories. Each module is
imported on its own (no re-exports here), so a checker costs nothing until used.
"""
