"""The drill's own events (drills.core.events): every kind written to a history file and read back the
same; the on-disk form of each kind is the one histories had before the kinds were typed; the
landmarks checkers judge by; and no module but drills/core/events.py spells an event's name."""

from __future__ import annotations

import ast
import gzip
import json
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from drills.core import events
from drills.core.events import (
    BackupRecorded,
    DrillEnded,
    DrillEvent,
    FaultApplied,
    HoldEnded,
    LeaderSample,
    Phase,
    PhaseBegan,
    RestoreEnded,
    RestoreStarted,
    SystemEvent,
    landmarks,
    read,
    write,
)
from drills.core.history import Event, History, MemoryHistory, load

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "histories"

# Times as the history keeps them (rounded to the microsecond), and short printable texts.
times = st.integers(0, 10**9).map(lambda us: us / 1e6)
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
names = st.lists(st.text("abcdefgh0123456789", min_size=1, max_size=6), max_size=4).map(tuple)
ints = st.none() | st.integers(-(2**40), 2**40)
numbers = st.none() | st.integers(0, 10**6).map(lambda ms: ms / 1e3)
plain = st.none() | st.booleans() | st.integers(-1000, 1000) | texts | st.lists(texts, max_size=3)
# what a sampler records beside the leaders: any keys but the sample's own
details = st.dictionaries(texts.filter(lambda k: k not in ("component", "leaders", "final")), plain, max_size=3)

EVERY_KIND = st.one_of(
    st.builds(PhaseBegan, st.sampled_from(list(Phase)), times, texts, texts),
    st.builds(FaultApplied, times, texts, texts, names, texts),
    st.builds(HoldEnded, times),
    st.builds(DrillEnded, times),
    st.builds(LeaderSample, times, texts, names, details, st.booleans()),
    st.builds(BackupRecorded, times, st.dictionaries(texts, plain, max_size=4)),
    st.builds(RestoreStarted, times, texts, texts, texts, texts, numbers, ints, st.none() | texts),
    st.builds(RestoreEnded, times, texts, texts, st.booleans(), ints, ints, st.none() | texts,
              st.dictionaries(texts, st.integers(0, 10**6).map(lambda ms: ms / 1e3), max_size=3), numbers,
              st.none() | texts),
    st.builds(SystemEvent, times, texts, texts, texts, texts, texts),
)


def test_every_kind_is_offered_by_the_strategy_and_has_a_name():
    kinds = {PhaseBegan, FaultApplied, HoldEnded, DrillEnded, LeaderSample, BackupRecorded, RestoreStarted,
             RestoreEnded, SystemEvent}
    assert set(DrillEvent.__args__) == kinds  # type: ignore[attr-defined]
    assert {p.value for p in Phase} | {k.NAME for k in kinds - {PhaseBegan}} == events.NAMES


def _restore_as_written(event: DrillEvent) -> DrillEvent:
    """What a restore-end that raised keeps: its error only (the digest is not written)."""
    if isinstance(event, RestoreEnded) and event.error is not None:
        return RestoreEnded(event.at, event.fault, event.backup_id, event.ok, error=event.error)
    return event


@given(st.lists(EVERY_KIND, min_size=1, max_size=12))
def test_every_kind_written_to_a_file_reads_back_the_same(tmp_path_factory, written):
    path = tmp_path_factory.mktemp("h") / "history.jsonl"
    with History(path) as h:
        for event in written:
            write(h, event)
    _, loaded = load(path)
    assert [read(e) for e in loaded] == [_restore_as_written(e) for e in written]


@given(EVERY_KIND)
def test_write_accepts_a_history_or_its_event_method(event):
    a, b = MemoryHistory(), MemoryHistory()
    assert write(a, event) == write(b.event, event) == a.events[0] == b.events[0]


def test_a_name_this_version_does_not_know_is_no_kind():
    assert read(Event("nemesis-said-hello", 1.0, {"x": 1})) is None
    assert events.of_kind([Event("nemesis-said-hello", 1.0)], FaultApplied) == []


def test_the_kinds_read_what_the_samplers_and_the_runner_wrote_before_they_were_typed():
    """Old histories: no fault id, leaders as lists, the sampler's detail beside them."""
    old = [Event("inject", 3.684, {"detail": "kill postgres.leader"}),
           Event("fault", 4.087, {"kind": "kill", "target": "postgres.leader", "resolved": ["pg2"]}),
           Event("leaders", 4.1, {"component": "postgres", "leaders": [], "asked": ["pg1", "pg3"]}),
           Event("leaders", 30.0, {"component": "postgres", "leaders": ["pg3"], "asked": ["pg1"], "final": True})]
    assert [read(e) for e in old] == [
        PhaseBegan(Phase.INJECT, 3.684, "kill postgres.leader"),
        FaultApplied(4.087, "kill", "postgres.leader", ("pg2",)),
        LeaderSample(4.1, "postgres", (), {"asked": ["pg1", "pg3"]}),
        LeaderSample(30.0, "postgres", ("pg3",), {"asked": ["pg1"]}, final=True)]


def _fixture_events() -> list[dict[str, Any]]:
    """Every event line of the committed histories written before the kinds were typed."""
    lines: list[str] = []
    for path in sorted(FIXTURES.glob("*/history.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            lines += [line for line in fh if '"t":"event"' in line]
    for path in sorted(FIXTURES.glob("*/events.jsonl")):
        lines += path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_each_old_event_is_written_again_exactly_as_it_was():
    """The on-disk form did not change: each event of real runs of the format before (phases,
    fault, hold-end, end, leaders, backup, restore-start, restore-end, system) read as its kind and
    written again is the same JSON, names and data keys in their order."""
    old = _fixture_events()
    assert {r["name"] for r in old} == events.NAMES - {Phase.SERVED.value}  # no fixture waited to be served
    h = MemoryHistory()
    for record in old:
        typed = read(Event(record["name"], float(record["at"]), record["data"]))
        assert typed is not None, record
        write(h, typed)
    assert [json.dumps(e.to_json()) for e in h.events] == [json.dumps(r) for r in old]


def test_the_landmarks_come_from_the_phases_the_faults_and_the_end():
    history = [Event("steady", 0.7), Event("inject", 3.7), Event("fault", 4.1, {"resolved": ["pg2"]}),
               Event("hold-end", 19.1), Event("heal", 19.1), Event("inject", 20.0), Event("fault", 20.5),
               Event("hold-end", 25.0), Event("after", 29.6), Event("end", 32.6)]
    marks = landmarks(history)
    assert (marks.fault_at, marks.injected, marks.fault_end, marks.steady_from, marks.after_from, marks.end) == \
        (3.7, 4.1, 19.1, 0.7, 29.6, 32.6)
    unhealed = landmarks([Event("inject", 2.0), Event("hold-end", 9.0)])
    assert (unhealed.fault_end, unhealed.injected, unhealed.steady_from, unhealed.end) == (9.0, None, 0.0, None)
    assert landmarks([]) == events.Landmarks(None, None, 0.0, None, None, None)


# ---- no event name outside drills/core/events.py ---------------------------------------------------


def _spelled_names(tree: ast.AST) -> list[tuple[int, str]]:
    """Where a module spells an event name: as the name of an event it records or looks for
    (`.event("x", ...)`, `Event("x", ...)`, `last_event(events, "x")`, `self.phase("x")`), compared
    with an event's name (`e.name == "x"`, `e.name in ("x", ...)`), or declared as a constant of
    its own (`HEAL = "heal"`)."""

    def literals(node: ast.AST) -> list[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            return [v for elt in node.elts for v in literals(elt)]
        return []

    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):  # .event("x"), Event("x"), first_event(events, "x"), .phase("x")
            callee = node.func.attr if isinstance(node.func, ast.Attribute) else \
                node.func.id if isinstance(node.func, ast.Name) else ""
            if "event" in callee.lower() or callee == "phase":
                found += [(node.lineno, v) for arg in node.args for v in literals(arg) if v in events.NAMES]
        elif isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(isinstance(s, ast.Attribute) and s.attr == "name" for s in sides):
                found += [(node.lineno, v) for s in sides for v in literals(s) if v in events.NAMES]
        elif isinstance(node, ast.Assign):  # NAME = "x", or A, B = "x", "y": a name of its own for one
            for target in node.targets:
                pairs = [(target, node.value)] if isinstance(target, ast.Name) else \
                    list(zip(target.elts, node.value.elts, strict=False)) \
                    if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple) else []
                found += [(node.lineno, v.value) for t, v in pairs
                          if isinstance(t, ast.Name) and t.id.isupper() and isinstance(v, ast.Constant)
                          and v.value in events.NAMES]
    return sorted(found)


def test_the_scan_finds_each_way_a_module_spelled_an_event_name():
    before = '''
HEAL = "heal"
BACKUP, RESTORE_START = "backup", "restore-start"
self.history.event("hold-end", self.now())
lost = [e for e in ev.events if e.name == "fault"]
system = [e for e in events if e.name in ("system", "other")]
events = [Event("leaders", 1.0)]
fault_at = first_event(events, "inject")
with self.phase("steady", f"{s.steady:g} s"):
    pass
'''
    assert [v for _, v in _spelled_names(ast.parse(before))] == [  # in the order of the lines
        "heal", "backup", "restore-start", "hold-end", "fault", "system", "leaders", "inject", "steady"]
    # other things named alike: a colour, a file, the fields of a scenario's step
    fine = 'COLORS = {"fault": "#ffd08a"}\nif path.name == "stack.yaml": pass\nDRAWN = ("fault", "target")\n'
    assert _spelled_names(ast.parse(fine)) == []


def test_no_module_but_events_spells_an_event_name():
    spelled = {}
    for path in sorted((ROOT / "drills").rglob("*.py")):
        if path == ROOT / "drills" / "core" / "events.py":
            continue
        found = _spelled_names(ast.parse(path.read_text(encoding="utf-8")))
        if found:
            spelled[str(path.relative_to(ROOT))] = found
    assert spelled == {}, "write and read the drill's events through drills.core.events (its kinds' NAME, Phase)"
