"""Repeated runs aggregated (drills.report.repeats): synthetic samples in, pass rates, flakiness and
nearest-rank distributions out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drills.checkers.verdict import Status, Verdict
from drills.records.result import RunResult
from drills.report.repeats import (
    OUTCOMES,
    MetricKey,
    Sample,
    aggregate,
    exit_code,
    fmt_distribution,
    pass_rate_text,
    percentile,
    sample_of_result,
)

STATUSES = ("passed", "failed", "not-run", "error", "aborted")
values = st.floats(min_value=0, max_value=1e5, allow_nan=False)


def availability(rto: float | None, outage: float | None, status: str = "pass", *, signal: str = "postgres.write",
                 max_rto: float | None = 20.0) -> dict[str, Any]:
    measured = {} if outage is None else {"rto_s": rto, "longest_outage_s": outage}
    return {"checker": "availability", "subject": signal, "status": status, "measured": measured,
            "bound": {} if max_rto is None else {"max_rto_s": max_rto}}


def lost_writes(lost: int | None, status: str = "pass") -> dict[str, Any]:
    return {"checker": "lost-writes", "subject": "postgres.write", "status": status,
            "measured": {} if lost is None else {"lost": lost}, "bound": {"max_lost": 0}}


@st.composite
def samples(draw: st.DrawFn, scenario: str = "pg-kill") -> Sample:
    """A run as the runner makes them: verdicts only when it got to judging, a passed run has
    only passing verdicts, a failed one at least one that is not a pass."""
    status = draw(st.sampled_from(STATUSES))
    verdicts: list[dict[str, Any]] = []
    if status in ("passed", "failed"):
        n = draw(st.integers(1, 3))
        for i in range(n):
            v_status = "pass" if status == "passed" else draw(st.sampled_from(["pass", "fail", "not measured"]))
            if status == "failed" and i == n - 1 and all(v["status"] == "pass" for v in verdicts) \
                    and v_status == "pass":
                v_status = draw(st.sampled_from(["fail", "not measured"]))
            rto = draw(st.none() | values) if v_status != "pass" else draw(values)
            verdicts.append(availability(rto, draw(values), v_status, signal=f"s{i}"))
    return Sample(scenario, f"run-{draw(st.integers(0, 10**6))}", status, tuple(verdicts))


# ---- percentiles ------------------------------------------------------------------------------


@given(st.lists(values, min_size=1, max_size=60))
def test_percentiles_are_monotone_and_measured_values(xs):
    s = sorted(xs)
    p50, p95 = percentile(s, 50), percentile(s, 95)
    assert min(xs) <= p50 <= p95 <= max(xs)
    assert p50 in xs and p95 in xs
    assert percentile(s, 100) == max(xs)


@given(st.lists(values, min_size=1, max_size=60), st.integers(1, 100), st.integers(1, 100))
def test_a_higher_percentile_is_never_lower(xs, p, q):
    s = sorted(xs)
    lo, hi = sorted((p, q))
    assert percentile(s, lo) <= percentile(s, hi)


@given(st.lists(values, min_size=1, max_size=60), st.integers(1, 100))
def test_nearest_rank_definition(xs, p):
    """At least p % of the samples are <= the p-th percentile, and fewer than p % are below it."""
    s = sorted(xs)
    v = percentile(s, p)
    assert sum(1 for x in xs if x <= v) * 100 >= p * len(xs)
    assert sum(1 for x in xs if x < v) * 100 < p * len(xs)


def test_nearest_rank_on_known_samples():
    ten = [float(i) for i in range(1, 11)]
    assert (percentile(ten, 50), percentile(ten, 95)) == (5.0, 10.0)  # n < 20: p95 is the maximum
    twenty = [float(i) for i in range(1, 21)]
    assert percentile(twenty, 95) == 19.0
    assert percentile([float(i) for i in range(1, 101)], 95) == 95.0
    assert percentile([7.0], 50) == percentile([7.0], 95) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)


@given(st.lists(samples(), min_size=1, max_size=12))
def test_distributions_are_ordered_and_count_every_attempt(group):
    [rep] = aggregate(group)
    attempted = sum(1 for s in group if s.outcome != "not-run")
    for d in rep.metrics:
        assert d.n + d.not_measured == attempted  # a NOT RUN sample is no missing measurement
        if d.n:
            assert d.min is not None and d.p50 is not None and d.p95 is not None and d.max is not None
            assert d.min <= d.p50 <= d.p95 <= d.max
        else:
            assert d.min is d.p50 is d.p95 is d.max is None


# ---- outcomes, pass rate, flaky ---------------------------------------------------------------------


@given(st.lists(samples(), min_size=1, max_size=12))
def test_flaky_iff_it_both_passed_and_did_not(group):
    [rep] = aggregate(group)
    outcomes = [s.outcome for s in group]
    passed = "passed" in outcomes
    not_passed = any(o in ("failed", "not-measured", "error") for o in outcomes)
    assert rep.flaky == (passed and not_passed)
    assert rep.met == all(o == "passed" for o in outcomes)
    assert not (rep.flaky and rep.met)
    if rep.flaky:
        assert rep.verdict == "FLAKY" and exit_code(group) != 0


@given(st.lists(samples(), min_size=1, max_size=12))
def test_not_run_never_counts_as_a_pass(group):
    [rep] = aggregate(group)
    assert rep.passed == sum(1 for s in group if s.status == "passed")
    assert rep.pass_rate == rep.passed / len(group)
    assert sum(rep.counts.values()) == len(group)
    not_run = sum(1 for s in group if s.status == "not-run")
    assert rep.counts["not-run"] == not_run
    if not_run:
        assert not rep.met and rep.pass_rate is not None and rep.pass_rate < 1
    if not_run == len(group):
        assert rep.verdict == "NOT RUN" and rep.passed == 0


def test_a_pass_needs_verdicts_and_every_one_passed():
    assert Sample("x", "r", "passed", (availability(1.0, 1.0),)).outcome == "passed"
    assert Sample("x", "r", "passed", ()).outcome == "not-measured"  # nothing was shown to hold
    assert Sample("x", "r", "passed", (availability(None, 1.0, "not measured"),)).outcome == "not-measured"
    assert Sample("x", "r", "failed", (availability(None, 1.0, "not measured"),)).outcome == "not-measured"
    assert Sample("x", "r", "failed", (availability(30.0, 30.0, "fail"),
                                       availability(None, 1.0, "not measured"))).outcome == "failed"
    assert Sample("x", "r", "running", ()).outcome == "error"


def test_verdicts_and_texts_of_a_mixed_scenario():
    group = [Sample("x", "a", "passed", (availability(9.0, 8.0),)),
             Sample("x", "b", "failed", (availability(25.0, 24.0, "fail"),)),
             Sample("x", "c", "failed", (availability(None, 3.0, "not measured"),)),
             Sample("x", "d", "not-run")]
    [rep] = aggregate(group)
    assert rep.verdict == "FLAKY"
    assert pass_rate_text(rep) == "1/4 passed (1 failed, 1 not measured, 1 not run)"
    rto = next(d for d in rep.metrics if d.key == MetricKey("RTO", "postgres.write", "s"))
    assert (rto.values, rto.not_measured, rto.target, rto.over_target) == ((9.0, 25.0), 1, 20.0, 1)
    assert fmt_distribution(rto) == "p50 9.0 s, p95 25.0 s (min 9.0 s, max 25.0 s; n=2, 1 not measured)"


@pytest.mark.parametrize(("statuses", "verdict"), [
    (["passed", "passed"], "MET"), (["failed", "failed"], "NOT MET"), (["passed", "aborted"], "INCOMPLETE"),
    (["not-run", "not-run"], "NOT RUN"), (["aborted"], "ABORTED"), (["passed", "error"], "FLAKY"),
])
def test_scenario_verdicts(statuses, verdict):
    group = [Sample("x", str(i), s, (availability(1.0, 1.0, "pass" if s == "passed" else "fail"),)
                    if s in ("passed", "failed") else ()) for i, s in enumerate(statuses)]
    assert aggregate(group)[0].verdict == verdict


def test_scenarios_keep_their_first_seen_order_and_own_samples():
    group = [Sample("b", "1", "passed", (lost_writes(0),)), Sample("a", "2", "passed", (lost_writes(0),)),
             Sample("b", "3", "failed", (lost_writes(4, "fail"),))]
    reps = aggregate(group)
    assert [(r.scenario_id, len(r.samples)) for r in reps] == [("b", 2), ("a", 1)]
    [rpo] = reps[0].metrics
    assert (rpo.key, rpo.values, rpo.target) == (MetricKey("RPO", "postgres.write", "writes"), (0.0, 4.0), 0.0)


# ---- exit code ---------------------------------------------------------------------------------


@given(st.lists(samples(), max_size=12))
def test_exit_code(group):
    outcomes = {s.outcome for s in group}
    code = exit_code(group)
    assert (code == 0) == outcomes.issubset({"passed", "not-run"})
    assert (code == 3) == bool(outcomes & {"error", "aborted"})


@given(st.lists(st.sampled_from(STATUSES), max_size=8))
def test_exit_code_of_single_runs_is_unchanged(statuses):
    """What `drill run` exited with before --repeat: 3 error/aborted, 1 failed, else 0."""
    results = [RunResult(str(i), "x", s, [Verdict("availability", "w", "", "", Status.PASS if s == "passed"
                                                  else Status.FAIL, {"rto_s": 1.0})]
                         if s in ("passed", "failed") else [], Path(".")) for i, s in enumerate(statuses)]
    before = 3 if set(statuses) & {"error", "aborted"} else 1 if "failed" in statuses else 0
    assert exit_code(sample_of_result(r) for r in results) == before


def test_every_outcome_has_a_count():
    [rep] = aggregate([Sample("x", "1", "passed", (availability(1.0, 1.0),))])
    assert tuple(rep.counts) == OUTCOMES
    assert rep.to_json()["metrics"][0]["samples"] == [{"value": 1.0, "run": "1"}]


# ---- the JSON summary and the CLI option -------------------------------------------------------------


def test_the_json_summary_of_a_repeated_run(tmp_path):
    from drills.report.run_log import RunLog, write_summary

    def result(i: int, status: str, rto: float) -> RunResult:
        v = Verdict("availability", "postgres.write", "rto <= 20", "", Status.PASS if status == "passed"
                    else Status.FAIL, {"rto_s": rto, "longest_outage_s": rto - 1}, {"max_rto_s": 20.0})
        return RunResult(f"r{i}", "pg-kill", status, [v], None, wall_s=30.0 + i)

    log = RunLog(3, [(1, result(1, "passed", 9.0)), (2, result(2, "failed", 25.0)), (3, result(3, "passed", 11.0))],
                 [{"index": i, "wall_s": 31.0, "complete": True} for i in (1, 2, 3)], stack_up_s=40.0)
    write_summary(log, tmp_path / "s.json", exit_code=1)
    data = json.loads((tmp_path / "s.json").read_text())
    assert (data["repeat"], data["exit_code"], data["interrupted"], data["stack_up_s"]) == (3, 1, False, 40.0)
    [sc] = data["scenarios"]
    assert (sc["verdict"], sc["flaky"], sc["pass_rate"]) == ("FLAKY", True, 2 / 3)
    rto = sc["metrics"][0]
    assert (rto["kind"], rto["n"], rto["min"], rto["p50"], rto["p95"], rto["max"]) == ("RTO", 3, 9.0, 11.0, 25.0, 25.0)
    assert [r["repetition"] for r in data["runs"]] == [1, 2, 3]
    assert [r["outcome"] for r in data["runs"]] == ["passed", "failed", "passed"]


def test_repeat_must_be_at_least_one(tmp_path):
    done = subprocess.run([sys.executable, "-m", "drills", "run", "--repeat", "0", "--suite", "policy"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2 and "--repeat" in done.stderr
