"""The drill's own events, every kind of them declared once: the runner, the faults, the samplers,
the backup schedule and the system's logs write them through this module (`write`), and the
checkers, `Evidence` and the report read them back through it (`read`, `of_kind`, `landmarks`).
No other module spells an event's name (tests/unit/test_events.py looks for one).

Jepsen keeps the nemesis' operations in the same history as the clients', as ordinary typed
operations; here they are the history's events (`drills.core.history.Event`: a name, a time, a data
object), each kind a frozen dataclass below with its name (`NAME`, or its phase's), its data
(`data()`, what goes on disk) and its reading back (`of(event)`):

    name                 kind             written by                        data
    warm-up, steady,     PhaseBegan       the runner, as a phase begins     detail; fault (the fault's
    inject, hold, heal,                                                     id, of an inject or heal)
    recover, after, served, final-reads
    fault                FaultApplied     the runner, once a fault is on    kind, target, resolved; fault
    hold-end             HoldEnded        the runner, a step's hold over    -
    end                  DrillEnded       the runner, its schedule over     -
    leaders              LeaderSample     the samplers (drills.sampling)    component, leaders, what the
                                                                            sampler asked; final
    backup               BackupRecorded   the backup schedule               the backup's record
                                                                            (drills.backup.model.Backup)
    restore-start        RestoreStarted   the restore-backup fault          fault, backup_id, component, ...
    restore-end          RestoreEnded     the restore-backup fault          fault, backup_id, ok, ...
    system               SystemEvent      the runner, from the containers'  service, component, kind,
                                          logs once the drill is over       subject, line

On disk the names and data keys are those the histories had before the kinds were typed, so a
history written then reads the same now (tests/fixtures/histories/); the fault id an inject,
heal or fault event carries (`fault`) came later and is "" in older histories. A name this
version does not know reads as no kind (`read` gives None) and is kept in the history as it is.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeAlias, TypeVar

from drills.core.history import Event, Recorder


class Phase(enum.StrEnum):
    """The phases of a drill's schedule, in their order; each writes a `PhaseBegan` as it begins
    (and a `PhaseRecord` of the journal, under the same name)."""

    WARM_UP = "warm-up"
    STEADY = "steady"
    INJECT = "inject"  # a step's fault is being applied (its `FaultApplied` follows)
    HOLD = "hold"
    HEAL = "heal"  # a step's fault is being healed
    RECOVER = "recover"
    AFTER = "after"
    SERVED = "served"  # waiting for the watched signals to be served again (drills.checkers.protocol.Watch)
    FINAL_READS = "final-reads"


# ---- the kinds ---------------------------------------------------------------------------------


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return "" if value is None else str(value)


def _names(value: Any) -> tuple[str, ...]:
    """A list of node names as recorded (in its order); anything else: none."""
    return tuple(str(n) for n in value) if isinstance(value, list | tuple) else ()


class _Kind:
    """What every kind has besides its fields: the name it is written under, its data (none)."""

    NAME: ClassVar[str]

    @property
    def name(self) -> str:
        return self.NAME

    def data(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True)
class PhaseBegan:
    """A phase of the schedule began. `fault`: the id of the fault an inject or heal phase is about."""

    phase: Phase
    at: float
    detail: str = ""
    fault: str = ""

    @property
    def name(self) -> str:
        return self.phase.value

    def data(self) -> dict[str, Any]:
        return {"detail": self.detail, **({"fault": self.fault} if self.fault else {})}

    @classmethod
    def of(cls, event: Event) -> PhaseBegan | None:
        if event.name not in _PHASES:
            return None
        return cls(Phase(event.name), event.at, _text(event.data, "detail"), _text(event.data, "fault"))


@dataclass(frozen=True)
class FaultApplied(_Kind):
    """A step's fault is on (the inject phase is over): what it targeted and the services it hit."""

    NAME: ClassVar[str] = "fault"
    at: float
    kind: str
    target: str
    resolved: tuple[str, ...]
    fault: str = ""  # its id ("" in histories written before ids were recorded)

    def data(self) -> dict[str, Any]:
        return {"kind": self.kind, "target": self.target, "resolved": list(self.resolved),
                **({"fault": self.fault} if self.fault else {})}

    @classmethod
    def of(cls, event: Event) -> FaultApplied | None:
        if event.name != cls.NAME:
            return None
        d = event.data
        return cls(event.at, _text(d, "kind"), _text(d, "target"), _names(d.get("resolved")), _text(d, "fault"))


@dataclass(frozen=True)
class HoldEnded(_Kind):
    """A step's hold is over (its heal, if any, begins next)."""

    NAME: ClassVar[str] = "hold-end"
    at: float

    @classmethod
    def of(cls, event: Event) -> HoldEnded | None:
        return cls(event.at) if event.name == cls.NAME else None


@dataclass(frozen=True)
class DrillEnded(_Kind):
    """The schedule is over: after the `after` phase (and the `served` one), before the final reads."""

    NAME: ClassVar[str] = "end"
    at: float

    @classmethod
    def of(cls, event: Event) -> DrillEnded | None:
        return cls(event.at) if event.name == cls.NAME else None


@dataclass(frozen=True)
class LeaderSample(_Kind):
    """Who claimed leadership of `component` (`postgres`, `rabbitmq@<queue>`) when sampled, as the
    sampler recorded it when the set changed (drills.sampling.base); `detail`: how it learnt it
    (whom it asked, each node's view, a round's error); `final`: the closing sample of the drill."""

    NAME: ClassVar[str] = "leaders"
    at: float
    component: str
    leaders: tuple[str, ...]
    detail: Mapping[str, Any] = field(default_factory=dict)
    final: bool = False

    def data(self) -> dict[str, Any]:
        return {"component": self.component, "leaders": list(self.leaders), **self.detail,
                **({"final": True} if self.final else {})}

    @classmethod
    def of(cls, event: Event) -> LeaderSample | None:
        if event.name != cls.NAME:
            return None
        d = event.data
        detail = {k: v for k, v in d.items() if k not in ("component", "leaders", "final")}
        return cls(event.at, _text(d, "component"), _names(d.get("leaders")), detail, bool(d.get("final")))


@dataclass(frozen=True)
class BackupRecorded(_Kind):
    """A backup of the schedule ended (ok or not), at its end. `record` is the backup's own
    (drills.backup.model.Backup: `to_event_data` writes it, `from_event_data` reads it back)."""

    NAME: ClassVar[str] = "backup"
    at: float
    record: Mapping[str, Any]

    def data(self) -> dict[str, Any]:
        return dict(self.record)

    @classmethod
    def of(cls, event: Event) -> BackupRecorded | None:
        return cls(event.at, event.data) if event.name == cls.NAME else None


@dataclass(frozen=True)
class RestoreStarted(_Kind):
    """The restore-backup fault began putting a backup back (`backup_*`: what that backup holds)."""

    NAME: ClassVar[str] = "restore-start"
    at: float
    fault: str
    backup_id: str
    component: str
    method: str
    backup_point_s: float | None = None
    backup_rows: int | None = None
    backup_checksum: str | None = None

    def data(self) -> dict[str, Any]:
        return {"fault": self.fault, "backup_id": self.backup_id, "component": self.component,
                "method": self.method, "backup_point_s": self.backup_point_s, "backup_rows": self.backup_rows,
                "backup_checksum": self.backup_checksum}

    @classmethod
    def of(cls, event: Event) -> RestoreStarted | None:
        if event.name != cls.NAME:
            return None
        d = event.data
        return cls(event.at, _text(d, "fault"), _text(d, "backup_id"), _text(d, "component"), _text(d, "method"),
                   d.get("backup_point_s"), d.get("backup_rows"), d.get("backup_checksum"))


@dataclass(frozen=True)
class RestoreEnded(_Kind):
    """The restore ended: what it put back (its digest, how long each step took), or its `error`."""

    NAME: ClassVar[str] = "restore-end"
    at: float
    fault: str
    backup_id: str
    ok: bool
    rows: int | None = None
    max_seq: int | None = None
    checksum: str | None = None
    steps_s: Mapping[str, float] = field(default_factory=dict)
    duration_s: float | None = None
    error: str | None = None  # a restore that raised: only this is recorded

    def data(self) -> dict[str, Any]:
        head = {"fault": self.fault, "backup_id": self.backup_id, "ok": self.ok}
        if self.error is not None:
            return {**head, "error": self.error}
        return {**head, "rows": self.rows, "max_seq": self.max_seq, "checksum": self.checksum,
                "steps_s": dict(self.steps_s), "duration_s": self.duration_s}

    @classmethod
    def of(cls, event: Event) -> RestoreEnded | None:
        """Read as recorded; a value of the wrong type raises (ValueError, TypeError) as the
        checker reading it did before the kinds were typed."""
        if event.name != cls.NAME:
            return None
        d = event.data
        return cls(event.at, _text(d, "fault"), _text(d, "backup_id"), bool(d.get("ok")),
                   rows=_opt_int(d.get("rows")), max_seq=_opt_int(d.get("max_seq")),
                   checksum=None if d.get("checksum") is None else str(d["checksum"]),
                   steps_s={str(k): float(v) for k, v in (d.get("steps_s") or {}).items()},
                   duration_s=_number(d.get("duration_s")),
                   error=None if d.get("error") is None else str(d["error"]))


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class SystemEvent(_Kind):
    """What the system under test logged it did (a promotion, a leader elected, a node down), at
    `at` on the drill's clock: read from its containers' logs once the drill is over
    (drills.stack.log_events). Checkers that do not ask for these never see them."""

    NAME: ClassVar[str] = "system"
    at: float
    service: str
    component: str
    kind: str
    subject: str
    line: str

    def data(self) -> dict[str, Any]:
        """No key is named like a secret (`key`, `token`, ...): the report masks such keys' values."""
        return {"service": self.service, "component": self.component, "kind": self.kind,
                "subject": self.subject, "line": self.line}

    @classmethod
    def of(cls, event: Event) -> SystemEvent | None:
        if event.name != cls.NAME:
            return None
        d = event.data
        return cls(event.at, *(_text(d, k) for k in ("service", "component", "kind", "subject", "line")))


DrillEvent: TypeAlias = (PhaseBegan | FaultApplied | HoldEnded | DrillEnded | LeaderSample | BackupRecorded
                         | RestoreStarted | RestoreEnded | SystemEvent)
_PHASES = frozenset(p.value for p in Phase)
_BY_NAME: dict[str, Callable[[Event], DrillEvent | None]] = {
    **{name: PhaseBegan.of for name in _PHASES},
    **{kind.NAME: kind.of for kind in (FaultApplied, HoldEnded, DrillEnded, LeaderSample, BackupRecorded,
                                       RestoreStarted, RestoreEnded, SystemEvent)},
}
NAMES = frozenset(_BY_NAME)  # every name an event of the drill's own is written under


# ---- writing ------------------------------------------------------------------------------------


class _Records(Protocol):
    def __call__(self, name: str, at: float, /, **data: Any) -> Event: ...


def write(to: Recorder | _Records, event: DrillEvent) -> Event:
    """Record `event` in a history (`History`, `MemoryHistory`, or the `event` method of one)."""
    record = to if callable(to) else to.event
    return record(event.name, event.at, **event.data())


# ---- reading ------------------------------------------------------------------------------------


def read(event: Event) -> DrillEvent | None:
    """The typed event a history's event is (None: a name this version does not know)."""
    parse = _BY_NAME.get(event.name)
    return parse(event) if parse is not None else None


K = TypeVar("K", FaultApplied, HoldEnded, DrillEnded, LeaderSample, BackupRecorded, RestoreStarted, RestoreEnded,
            SystemEvent)


def of_kind(events: Iterable[Event], kind: type[K]) -> list[K]:
    """The events of one kind (not a phase: `phases`), in the history's order."""
    return [typed for e in events if e.name == kind.NAME and (typed := kind.of(e)) is not None]


def phases(events: Iterable[Event], phase: Phase) -> list[PhaseBegan]:
    """When each `phase` began, in the history's order."""
    return [typed for e in events if e.name == phase.value and (typed := PhaseBegan.of(e)) is not None]


def first_began(events: Iterable[Event], phase: Phase) -> float | None:
    return min((p.at for p in phases(events, phase)), default=None)


def last_began(events: Iterable[Event], phase: Phase) -> float | None:
    return max((p.at for p in phases(events, phase)), default=None)


def last_heal(events: Sequence[Event]) -> float | None:
    """When the drill's last heal began (None: nothing was healed)."""
    return last_began(events, Phase.HEAL)


def leader_samples(events: Iterable[Event], component: str) -> list[LeaderSample]:
    """The leader samples of one component, in time order."""
    return sorted((s for s in of_kind(events, LeaderSample) if s.component == component), key=lambda s: s.at)


@dataclass(frozen=True)
class Landmarks:
    """The drill's landmarks on its clock (None: absent from the history), as checkers judge by."""

    fault_at: float | None  # the first injection began
    fault_end: float | None  # the last heal began (or the last hold ended when nothing was healed)
    steady_from: float  # the steady phase began (0 when absent)
    after_from: float | None  # the steady phase after recovery began
    end: float | None  # the drill's schedule ended
    injected: float | None  # the first fault was on: its `FaultApplied`, at or after `fault_at`


def landmarks(events: Sequence[Event]) -> Landmarks:
    fault_at = first_began(events, Phase.INJECT)
    hold_ends = [h.at for h in of_kind(events, HoldEnded)]
    ended = [e.at for e in of_kind(events, DrillEnded)]
    injected = None if fault_at is None else min(
        (f.at for f in of_kind(events, FaultApplied) if f.at >= fault_at), default=None)
    # `or`: a heal at t=0 (none is) counts as none, as it always has
    return Landmarks(fault_at=fault_at, fault_end=last_heal(events) or max(hold_ends, default=None),
                     steady_from=first_began(events, Phase.STEADY) or 0.0,
                     after_from=first_began(events, Phase.AFTER), end=max(ended, default=None), injected=injected)


@dataclass(frozen=True, slots=True)
class FaultSpan:
    """One fault: injected at `injected`, healed at `healed` (None: never healed in the history)."""

    injected: float
    healed: float | None
    fault: str = ""  # the fault id, when the events carry one
    detail: str = ""  # e.g. "kill postgres.leader"


def fault_spans(events: Sequence[Event]) -> list[FaultSpan]:
    """Inject and heal phases paired: by their fault id when both carry it, else each heal closes
    the earliest fault still open (faults are healed in the order they were applied)."""
    open_: list[tuple[float, str, str]] = []
    spans: list[FaultSpan] = []
    for ev in sorted(events, key=lambda e: e.at):
        began = PhaseBegan.of(ev)
        if began is None or began.phase not in (Phase.INJECT, Phase.HEAL):
            continue
        detail = began.detail or " ".join(str(ev.data[k]) for k in ("kind", "target") if k in ev.data)
        if began.phase is Phase.INJECT:
            open_.append((ev.at, began.fault, detail))
        elif open_:
            index = next((i for i, (_, f, _) in enumerate(open_) if began.fault and f == began.fault), 0)
            at, f, d = open_.pop(index)
            spans.append(FaultSpan(at, ev.at, f, d))
    spans += [FaultSpan(at, None, f, d) for at, f, d in open_]
    return sorted(spans, key=lambda s: s.injected)
