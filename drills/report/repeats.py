"""Repeated runs of the same scenarios, aggregated: pass rate, flakiness, and the distribution of
RTO, outage and RPO over the repetitions (`drill run --repeat N`, and `drill report` over the runs
it is given).

    sample(...) / sample_of_result(r)   one run: its status and its verdicts (as in the journal)
    aggregate(samples) -> [ScenarioRepeats]   per scenario, in first-seen order
    exit_code(samples)                  0 every sample met its expectations, 1 not, 3 harness/abort

Pure: no I/O, no Docker. The numbers are read from the verdicts' `measured` values and the
targets from their `bound` (see `drills.checkers.verdict`), exactly what the journals hold.

Outcome of one sample: PASSED only when the run passed with at least one verdict and every verdict
passed. A run that failed with no broken bound but some bound unmeasured is NOT MEASURED; a
scenario that could not run here is NOT RUN; ERROR and ABORTED are the harness's and the user's.
None of these is ever a pass: the pass rate is passed / every sample.

A scenario is FLAKY when it passed in some repetitions and did not in others (failed, not measured
or harness error); NOT RUN and ABORTED samples say nothing about the scenario, so they count on
neither side.

Percentiles use the nearest-rank method (`PERCENTILE_METHOD`): the value reported is always one
that was measured, never an interpolation between two runs, and min <= p50 <= p95 <= max holds by
construction. With fewer than 20 measured samples p95 is the maximum; `n` is always shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drills.records.result import RunResult
    from drills.report.runs import Run

PERCENTILE_METHOD = ("nearest rank: the p-th percentile of n measured samples is the ceil(p/100 * n)-th "
                     "smallest (always a measured value; with fewer than 20 samples, p95 is the maximum)")

OUTCOMES = ("passed", "failed", "not-measured", "not-run", "error", "aborted")
NOT_PASSED = ("failed", "not-measured", "error")  # ran, and did not meet its expectations

# Which verdict numbers are distributions: the metrics each checker declares
# (`drills.checkers.protocol.Metric`): RTO and outage in seconds; RPO in acknowledged writes or
# confirmed messages lost, and for restore drills also the data-loss window in seconds.
KIND_ORDER = {"RTO": 0, "outage": 1, "RPO": 2}


def percentile(sorted_values: Sequence[float], p: int) -> float:
    """Nearest-rank percentile of ascending `sorted_values` (non-empty), 0 < p <= 100."""
    if not sorted_values:
        raise ValueError("no values")
    if not 0 < p <= 100:
        raise ValueError(f"percentile {p} is not in (0, 100]")
    rank = -(-p * len(sorted_values) // 100)  # ceil without float rounding
    return sorted_values[max(rank, 1) - 1]


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclass(frozen=True, order=True)
class MetricKey:
    kind: str  # RTO | outage | RPO
    subject: str  # the signal (or component) the verdict judged
    unit: str  # s | writes | messages

    @property
    def label(self) -> str:
        return f"{self.kind} {self.subject} ({self.unit})"


@dataclass(frozen=True)
class Sample:
    """One run of one scenario. `verdicts` as in journal.json (`Verdict.to_json()`)."""

    scenario_id: str
    run_id: str
    status: str  # the run's status: passed | failed | not-run | error | aborted
    verdicts: tuple[Mapping[str, Any], ...] = ()
    repetition: int | None = None  # 1.. within a `drill run --repeat N`; None when unknown
    seq: int | None = None  # the run's sequence number in the evidence chain
    wall_s: float | None = None

    @property
    def outcome(self) -> str:
        statuses = [str(v.get("status")) for v in self.verdicts]
        if self.status == "passed":
            # Fail closed: a pass needs verdicts, every one a pass.
            return "passed" if statuses and all(s == "pass" for s in statuses) else (
                "failed" if "fail" in statuses else "not-measured")
        if self.status == "failed":
            return "failed" if "fail" in statuses or not statuses else "not-measured"
        if self.status in ("not-run", "aborted", "error"):
            return self.status
        return "error"  # e.g. "running": the runner died before it wrote a verdict

    @property
    def label(self) -> str:
        where = f"#{self.seq}" if self.seq is not None else self.run_id
        return f"run {self.repetition}: {where}" if self.repetition is not None else where

    def measurements(self) -> dict[MetricKey, tuple[float | None, float | None]]:
        """Each metric this run's verdicts speak to: (measured or None, target or None). When a
        checker judged several things of one kind (two signals), each is its own metric."""
        from drills.checkers.registry import metrics_of

        out: dict[MetricKey, tuple[float | None, float | None]] = {}
        for v in self.verdicts:
            measured, bound = v.get("measured") or {}, v.get("bound") or {}
            for m in metrics_of(v.get("checker")):
                out[MetricKey(m.kind, str(v.get("subject")), m.unit)] = (
                    _number(measured.get(m.measured)), _number(bound.get(m.bound)) if m.bound else None)
        return out


def sample_of_result(result: RunResult, repetition: int | None = None, seq: int | None = None) -> Sample:
    """A run `drill run` just made."""
    return Sample(result.scenario_id, result.run_id, result.status, tuple(v.to_json() for v in result.verdicts),
                  repetition, seq, None if result.status == "not-run" else round(result.wall_s, 3))


def sample_of_run(run: Run, repetition: int | None = None) -> Sample:
    """A run read back from its journal (for `drill report`)."""
    wall = (run.journal.get("timings") or {}).get("wall_s")
    return Sample(run.scenario_id, run.run_id, run.status, tuple(run.verdicts), repetition, run.seq, _number(wall))


@dataclass(frozen=True)
class Distribution:
    """One metric over the samples of a scenario: the measured values (in run order, each with
    its sample's label) and how many samples it applied to without a measurement."""

    key: MetricKey
    target: float | None
    values: tuple[float, ...]
    labels: tuple[str, ...]
    not_measured: int

    @property
    def n(self) -> int:
        return len(self.values)

    def _p(self, p: int) -> float | None:
        return percentile(sorted(self.values), p) if self.values else None

    @property
    def min(self) -> float | None:
        return min(self.values) if self.values else None

    @property
    def p50(self) -> float | None:
        return self._p(50)

    @property
    def p95(self) -> float | None:
        return self._p(95)

    @property
    def max(self) -> float | None:
        return max(self.values) if self.values else None

    @property
    def over_target(self) -> int:
        return 0 if self.target is None else sum(1 for v in self.values if v > self.target)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.key.kind, "subject": self.key.subject, "unit": self.key.unit, "target": self.target,
                "n": self.n, "not_measured": self.not_measured, "min": self.min, "p50": self.p50,
                "p95": self.p95, "max": self.max, "over_target": self.over_target,
                "samples": [{"value": v, "run": label} for v, label in zip(self.values, self.labels, strict=True)]}


@dataclass(frozen=True)
class ScenarioRepeats:
    scenario_id: str
    samples: tuple[Sample, ...]
    metrics: tuple[Distribution, ...] = field(default=())

    @property
    def counts(self) -> dict[str, int]:
        return {o: sum(1 for s in self.samples if s.outcome == o) for o in OUTCOMES}

    @property
    def passed(self) -> int:
        return self.counts["passed"]

    @property
    def pass_rate(self) -> float | None:
        """Passed / every sample (NOT RUN, NOT MEASURED, ERROR and ABORTED count as not passed)."""
        return self.passed / len(self.samples) if self.samples else None

    @property
    def flaky(self) -> bool:
        counts = self.counts
        return counts["passed"] > 0 and sum(counts[o] for o in NOT_PASSED) > 0

    @property
    def met(self) -> bool:
        """Every sample met every expectation."""
        return bool(self.samples) and self.passed == len(self.samples)

    @property
    def verdict(self) -> str:
        counts = self.counts
        if self.flaky:
            return "FLAKY"
        if self.met:
            return "MET"
        if counts["passed"]:
            return "INCOMPLETE"  # every run that finished passed, but some were aborted or not run
        if sum(counts[o] for o in NOT_PASSED):
            return "NOT MET"
        return "NOT RUN" if counts["not-run"] else "ABORTED"

    @property
    def wall_s(self) -> tuple[float, ...]:
        return tuple(s.wall_s for s in self.samples if s.wall_s is not None)

    def to_json(self) -> dict[str, Any]:
        return {"scenario": self.scenario_id, "samples": len(self.samples), "counts": self.counts,
                "pass_rate": self.pass_rate, "flaky": self.flaky, "met": self.met, "verdict": self.verdict,
                "runs": [{"run_id": s.run_id, "repetition": s.repetition, "seq": s.seq, "outcome": s.outcome,
                          "wall_s": s.wall_s} for s in self.samples],
                "metrics": [d.to_json() for d in self.metrics]}


def _distributions(samples: Sequence[Sample]) -> tuple[Distribution, ...]:
    per_sample = [s.measurements() for s in samples]
    keys = sorted({k for m in per_sample for k in m}, key=lambda k: (KIND_ORDER.get(k.kind, 9), k.subject, k.unit))
    out = []
    for key in keys:
        values: list[float] = []
        labels: list[str] = []
        target: float | None = None
        missing = 0
        for s, m in zip(samples, per_sample, strict=True):
            if s.outcome == "not-run":
                continue  # nothing was attempted: counted as NOT RUN, not as an unmeasured value
            value, bound = m.get(key, (None, None))
            target = bound if bound is not None else target  # the latest target (fixed per scenario file)
            if value is None:
                missing += 1
            else:
                values.append(value)
                labels.append(s.label)
        out.append(Distribution(key, target, tuple(values), tuple(labels), missing))
    return tuple(out)


def aggregate(samples: Iterable[Sample]) -> list[ScenarioRepeats]:
    """Per scenario (in the order first seen), its samples, pass rate, flakiness and distributions."""
    by_scenario: dict[str, list[Sample]] = {}
    for s in samples:
        by_scenario.setdefault(s.scenario_id, []).append(s)
    return [ScenarioRepeats(sid, tuple(group), _distributions(group)) for sid, group in by_scenario.items()]


def exit_code(samples: Iterable[Sample]) -> int:
    """`drill run`'s exit code: 3 when the harness failed or a run was aborted, else 1 when any
    sample did not meet its expectations (a flaky scenario has one), else 0. NOT RUN samples are
    excepted, as in a single run: they are reported, never passed."""
    outcomes = {s.outcome for s in samples}
    if outcomes & {"error", "aborted"}:
        return 3
    return 1 if outcomes & {"failed", "not-measured"} else 0


def fmt_value(value: float | None, unit: str) -> str:
    if value is None:
        return "not measured"
    text = f"{value:.1f}" if unit == "s" else f"{value:g}"
    return f"{text} {unit}"


def fmt_distribution(d: Distribution) -> str:
    """One line: "p50 4.1 s, p95 5.2 s (min 3.9 s, max 5.2 s; n=10, 1 not measured)"."""
    if not d.n:
        return f"not measured (0 of {d.not_measured} samples)"
    assert d.min is not None and d.max is not None
    tail = f"n={d.n}" + (f", {d.not_measured} not measured" if d.not_measured else "")
    return (f"p50 {fmt_value(d.p50, d.key.unit)}, p95 {fmt_value(d.p95, d.key.unit)} "
            f"(min {fmt_value(d.min, d.key.unit)}, max {fmt_value(d.max, d.key.unit)}; {tail})")


def pass_rate_text(r: ScenarioRepeats) -> str:
    """"9/10 passed (1 failed)" with every non-pass outcome named."""
    others = ", ".join(f"{n} {o.replace('-', ' ')}" for o, n in r.counts.items() if n and o != "passed")
    return f"{r.passed}/{len(r.samples)} passed" + (f" ({others})" if others else "")
