"""What a drill leaves behind in `reports/<run-id>/`, and the DR-readiness report read from it.

Written by the runner for each run (below `drills.run.runner` in the layers):

    journal.py     journal.json: phases, faults, verdicts with measured values and bounds, environment
    junit.py       junit.xml: one test case per verdict
    evidence.py    manifest.json, chained to the previous run's; `drill verify`
    result.py      RunResult: what one run came to

Read back from those files for `drill report` and `drill run`'s summary (above `drills.run.runner`):

    runs.py, render.py, readiness.py, repeats.py, summary.py, run_log.py, timeline.py, strip.py
"""
