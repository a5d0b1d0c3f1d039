"""Checkers: pure functions from a history (and the run's facts) to verdicts.

Every module here that defines `CHECKER` is one checker: its expectation model (the `checker:`
entry of a scenario file), its check, what it reports as RTO / outage / RPO, and its cross-field
checks of a file. The registry finds them, so this list is never written twice:

    python -c "from drills.checkers.registry import CHECKERS; print(*CHECKERS)"

The other modules are what they share:

    protocol.py        Checker, Metric, Evidence (what a check may read), RunFacts, ExpectationModel
    registry.py        CHECKERS: every checker by name, and what the rest of Drills asks of them
    verdict.py         Verdict and Status: PASS, FAIL, NOT_MEASURED (never PASS for the unmeasured)
    backup_schedule.py what became of each backup, and the data-loss window a schedule promises

They never talk to the system, so each is unit-tested on synthetic histories.
"""
