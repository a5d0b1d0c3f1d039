"""The checker protocol: what one checker is, so that nothing else has to know it by name.

A checker (one module of `drills.checkers` defining `CHECKER = Checker(...)`) brings

    model      its expectation: a frozen pydantic model tagged by `checker: <name>`, the one
               place its parameters, defaults and documentation live (the schema's union of
               expectations is built from the registry's models);
    check      a pure function from the expectation and the `Evidence` of a run (its scenario,
               history, and what the runner measured besides) to verdicts;
    subject    what an expectation is about (a signal, a component), read from the plain
               scenario of a journal: the report matches verdicts by it;
    metrics    the numbers of its verdicts that are RTO, outage or RPO: the summary table, the
               report's RTO/RPO table and its repeated-run distributions, JUnit properties;
    problems   cross-field mistakes in a scenario file the schema cannot express (a signal the
               workload does not drive), located, before anything starts;
    samples    what the runner must sample through the drill for it, named by the event kind
               the samples are (drills.core.events: `LeaderSample.NAME`), and `sampled`, of what
               (default the expectation's `component`; `rabbitmq@drill-events`: the leader of
               that queue): the runner starts drills.sampling.registry's sampler of each need,
               whatever it is, and `drill validate` refuses a need no sampler takes;
    watches    the signals it judges served again, with the bound it judges them by: the runner
               watches them live and does not end the drill before each is back or its bound has
               passed, so "never recovered" is said only by a drill that watched long enough;
    invariant  `safety` when one run's history proves a violation (an acknowledged write lost,
               two leaders at once): `drill explore` takes one failing run of a schedule as a
               finding; `liveness` (the default: recovery times, availability) wants most runs;
    trouble    the keys of its verdicts' `measured` that grow as a run comes closer to breaking
               it (the longest outage, indeterminate writes): `drill explore` steers toward them.

Jepsen composes checkers as a map of `check` functions over one history; this is the same idea,
typed. `drills.checkers.registry` finds every checker; `drills.run.evaluate` runs them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeVar, get_args

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer

from drills.checkers.verdict import Verdict
from drills.core.events import FaultApplied, Phase, landmarks, of_kind
from drills.core.history import Event, Op
from drills.core.yaml_locate import Loc
from drills.spec.assumptions import ASSUMES_HELP, Assumes
from drills.spec.types import Model


class _Rate(Protocol):
    @property
    def rate(self) -> float: ...


class _Backups(Protocol):
    @property
    def component(self) -> str: ...
    @property
    def interval(self) -> float: ...


class ScenarioFacts(Protocol):
    """What checkers read of a scenario (`drills.files.scenario_schema.Scenario` has it): checkers sit
    below the schema that composes their models, so they name what they use, not the schema."""

    @property
    def component(self) -> str: ...
    @property
    def steady(self) -> float: ...
    @property
    def workload(self) -> Mapping[str, _Rate]: ...
    @property
    def backup(self) -> _Backups | None: ...


class ExpectationModel(Model):
    """Base of every checker's expectation model: the configuration facts its bound relies on
    (`assumes:`, checked against the stack drilled: `drills.spec.assumptions`); every other field is
    each model's own, in its order."""

    assumes: tuple[Assumes, ...] = Field((), description=ASSUMES_HELP)

    if TYPE_CHECKING:  # declared by every subclass (a tag and a justification)
        checker: str
        why: str

    @model_serializer(mode="wrap")
    def _in_file_order(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Dumped as a file writes it: the checker first, the assumptions beside the why they
        support (a base class's field would otherwise lead)."""
        data: dict[str, Any] = handler(self)
        assumes = data.pop("assumes", None)
        why = data.pop("why", None)
        if assumes is not None:
            data["assumes"] = assumes
        if why is not None:
            data["why"] = why
        return data


@dataclass(frozen=True)
class RunFacts:
    """What the runner measured besides the history."""

    final_reads: dict[str, Collection[object] | None] = field(default_factory=dict)
    drained: bool = False
    recovered_after_s: float | None = None  # from the last heal to every component ready
    recovery_timed_out: bool = False
    recovery_last_seen: str = ""


@dataclass(frozen=True)
class Evidence:
    """Everything a checker may judge: the scenario, the history, the run's facts, and the drill's
    landmarks read from the history's events (drills.core.events.Landmarks: seconds on the drill's
    clock, None: absent)."""

    scenario: ScenarioFacts
    ops: Sequence[Op]
    events: Sequence[Event]
    facts: RunFacts
    fault_at: float | None  # the first injection began
    fault_end: float | None  # the last heal (or the end of the last hold when nothing was healed)
    steady_from: float  # the steady phase began (0 when absent)
    after_from: float | None  # the steady phase after recovery began
    end: float | None  # the drill ended

    @classmethod
    def of(cls, scenario: ScenarioFacts, ops: Sequence[Op], events: Sequence[Event], facts: RunFacts) -> Evidence:
        marks = landmarks(events)
        return cls(scenario, ops, events, facts, fault_at=marks.fault_at, fault_end=marks.fault_end,
                   steady_from=marks.steady_from, after_from=marks.after_from, end=marks.end)

    @property
    def injected(self) -> float | None:
        """When the first fault's injection completed (its `FaultApplied` follows the inject phase)."""
        if self.fault_at is None:
            return None
        since = self.fault_at
        return min((f.at for f in of_kind(self.events, FaultApplied) if f.at >= since), default=None)

    @property
    def faults(self) -> list[FaultApplied]:
        """Every fault applied, in the history's order: what it targeted, the services it hit."""
        return of_kind(self.events, FaultApplied)


# A target the expectation leaves unset, for the report's RTO/RPO table: (expectation, scenario,
# the verdict or None when the run judged nothing) -> the target, or None when there is none.
TargetDefault = Callable[[Mapping[str, Any], Mapping[str, Any], Mapping[str, Any] | None], float | None]


@dataclass(frozen=True)
class Metric:
    """A number of a checker's verdicts that a report shows as RTO, outage or RPO.

    `measured` and `bound` are keys of the verdict's `measured` and `bound` (units in the key's
    suffix, see `drills.checkers.verdict`). `target` names the expectation's field that fixes the
    target before the run: such a metric is a row of the report's RTO/RPO table, shown when the
    file sets the field or `target_default` gives one. `junit` is the JUnit property's prefix
    (`<junit>.<subject>`)."""

    kind: str  # RTO | outage | RPO
    unit: str  # s | writes | messages
    measured: str
    bound: str | None = None  # the bound the verdict judged the number against (None: not one)
    target: str | None = None
    target_default: TargetDefault | None = None
    junit: str | None = None


def no_problems(exp: Mapping[str, Any], view: FileView) -> Iterable[tuple[Loc, str]]:
    return ()


@dataclass(frozen=True)
class Watch:
    """A signal an expectation needs served again: `sustain_ops` ok ops in a row spanning
    `sustain_s`, by `bound_s` after its anchor (`Phase.INJECT`: the first injection began;
    `Phase.HEAL`: the last heal began). The runner keeps the drill going until the signal is back,
    sustained, since the last heal, or until anchor + bound + sustain has passed."""

    signal: str
    sustain_s: float
    sustain_ops: int
    anchor: Literal[Phase.INJECT, Phase.HEAL]
    bound_s: float


def no_watches(exp: Any) -> list[Watch]:
    return []


def its_component(exp: Any) -> str:
    """What an expectation's samples are of, by default: its `component`."""
    return str(getattr(exp, "component", None) or "")


E = TypeVar("E", bound=ExpectationModel)
# safety: a violation is proven by one run's history; liveness: a bound on time or rate, which one
# slow run may break by chance.
Invariant = Literal["safety", "liveness"]


@dataclass(frozen=True)
class Checker(Generic[E]):
    model: type[E]
    check: Callable[[E, Evidence], list[Verdict]]
    subject: Callable[[Mapping[str, Any], Mapping[str, Any]], str]  # (expectation, scenario), plain data
    metrics: tuple[Metric, ...] = ()
    problems: Callable[[Mapping[str, Any], FileView], Iterable[tuple[Loc, str]]] = no_problems
    samples: frozenset[str] = frozenset()
    sampled: Callable[[E], str] = its_component  # what its samples are of (the samples' `component`)
    watches: Callable[[E], list[Watch]] = no_watches
    backup_evidence: bool = False  # its verdict is the report's "backup integrity" of a run
    invariant: Invariant = "liveness"
    trouble: tuple[str, ...] = ()  # measured keys, larger = closer to a failure

    @property
    def name(self) -> str:
        return str(get_args(self.model.model_fields["checker"].annotation)[0])


@dataclass(frozen=True)
class FileView:
    """The plain data of a scenario file for cross-field checks, read before (and whether or not)
    the schema accepts it: a part that is itself invalid is None here, as the schema reports it."""

    data: Mapping[str, Any]
    workload: Mapping[str, Any] | None
    backup: Mapping[str, Any] | None
    steady: float | None
    after: float | None
    recovery_timeout: float | None


def signal_not_driven(exp: Mapping[str, Any], view: FileView, *, name_driven: bool = True) -> list[tuple[Loc, str]]:
    """The expectation's `signal` is one the workload does not drive."""
    from drills.spec.types import shorten
    from drills.workload.registry import SIGNALS

    signal = exp.get("signal")
    if signal not in SIGNALS or view.workload is None or signal in view.workload:
        return []
    driven = f" ({', '.join(shorten(str(w)) for w in view.workload)})" if name_driven else ""
    return [(("signal",), f"{signal!r} is not in the workload{driven}")]


def number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
