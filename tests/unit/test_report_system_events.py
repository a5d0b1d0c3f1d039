"""The system's own events in the report: a lane per component on the timeline beside the fault
windows and the clients' outcomes, and a table of them (bounded) under it."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from drills.core.events import SystemEvent
from drills.core.history import Event, Op, Outcome
from drills.records.evidence import seal
from drills.report.render import render
from drills.report.runs import load_runs
from drills.report.timeline import COLORS, LEFT, RIGHT, WIDTH, system_rows, timeline_svg
from tests.report_factory import make_run

PLOT_W = WIDTH - LEFT - RIGHT


def system(at: float, service: str, component: str, kind: str, subject: str = "", line: str = "") -> Event:
    return Event(SystemEvent.NAME, at, {"service": service, "component": component, "kind": kind, "subject": subject,
                              "line": line or f"{kind} {subject}".strip()})


ITEMS: list[Op | Event] = [Op("postgres.write", 0, "write", i, i * 0.5, i * 0.5 + 0.01, Outcome.OK) for i in range(40)]
ITEMS += [system(0.3, "pg1", "patroni", "lock-owner", "pg1"), system(9.0, "pg2", "patroni", "promoted"),
          system(9.2, "etcd1", "etcd", "leader-elected", "abc"), system(12.0, "pg1", "patroni", "demoted"),
          system(13.0, "lb", "haproxy", "server-down", "dashboards/dashboard1")]
JOURNAL = {"faults": [{"kind": "kill", "target": "postgres.leader", "injected_s": 5.0, "healed_s": 15.0}],
           "timings": {"wall_s": 20.0},
           "phases": [{"name": "steady", "start_s": 0.0}, {"name": "hold", "start_s": 5.0},
                      {"name": "recover", "start_s": 15.0}]}


def marks(svg: str) -> list[ET.Element]:
    return [e for e in ET.fromstring(svg).iter() if e.get("class") == "system-event"]


def test_each_system_event_is_a_mark_at_its_time_in_its_component_s_lane():
    svg = timeline_svg(ITEMS, JOURNAL)
    found = marks(svg)
    assert [m.get("data-kind") for m in found] == ["lock-owner", "promoted", "leader-elected", "demoted", "server-down"]
    promoted = found[1]
    assert promoted.get("d", "").startswith(f"M{LEFT + PLOT_W * 9.0 / 20.0:.1f},")
    assert promoted.get("fill") == COLORS["gained"] and found[3].get("fill") == COLORS["lost"]
    assert found[0].get("fill") == COLORS["other"]
    lanes = [t.text for t in ET.fromstring(svg).iter() if t.get("class") == "system-lane"]
    assert lanes == ["patroni (logs)", "etcd (logs)", "haproxy (logs)"]
    ys = {m.get("data-kind"): float(m.get("d", "M0,0").split(",")[1].split()[0]) for m in found}
    assert ys["promoted"] == ys["demoted"] < ys["leader-elected"] < ys["server-down"]


def test_the_fault_window_reaches_down_over_the_system_lanes():
    root = ET.fromstring(timeline_svg(ITEMS, JOURNAL))
    [window] = [e for e in root.iter() if e.get("class") == "fault-window"]
    bottom = float(window.get("y", "0")) + float(window.get("height", "0"))
    lowest = max(float(m.get("d", "M0,0").split(",")[1].split()[0]) for m in marks(ET.tostring(root, "unicode")))
    assert bottom > lowest


def test_a_run_without_system_events_draws_no_lane():
    svg = timeline_svg([i for i in ITEMS if isinstance(i, Op)], JOURNAL)
    assert not marks(svg) and "system-lane" not in svg


def test_the_table_is_in_time_order_with_the_phase_and_bounded():
    rows, more = system_rows(ITEMS, JOURNAL, limit=3)
    assert [(r["at"], r["phase"], r["service"], r["kind"]) for r in rows] == [
        ("0.30", "steady", "pg1", "lock-owner"), ("9.00", "hold", "pg2", "promoted"),
        ("9.20", "hold", "etcd1", "leader-elected")]
    assert more == 2


def add_system_events(run: Path, events: list[Event]) -> None:
    with (run / "history.jsonl").open("a", encoding="utf-8") as fh:
        for e in events:
            fh.write(json.dumps(e.to_json()) + "\n")
    (run / "logs").mkdir()
    (run / "logs" / "index.json").write_text('{"containers": []}\n')


def test_a_failed_drill_s_report_shows_what_the_system_did(tmp_path):
    reports = tmp_path / "reports"
    run = make_run(reports, outage=(5.3, 27.0), lost=3, after=15.0, do_seal=False)
    promoted = "INFO: promoted self to leader by acquiring session lock"
    add_system_events(run, [system(6.1, "pg1", "patroni", "promoted", line=promoted),
                            system(9.0, "pg2", "patroni", "demoted", line="password=hunter2 | demoting self")]
                      + [system(10.0 + i, "pg3", "patroni", "lock-owner", f"pg{i}") for i in range(60)])
    seal(run)
    html_path, md_path = render(load_runs([reports]), tmp_path / "out")
    md, html = md_path.read_text(), html_path.read_text()
    assert "FAILED" in md
    assert "| 6.10 | hold | pg1 | patroni promoted | INFO: promoted self to leader by acquiring session lock |" in md
    assert "… and 12 more (all in the run's `history.jsonl`)." in md
    assert "hunter2" not in md and "hunter2" not in html
    assert "\\| demoting self" in md  # a | of the line does not break the table
    assert 'class="system-event"' in html and "<details class=\"system\" open>" in html
    [svg] = (tmp_path / "out").glob("drill-report-timelines/*.svg")
    assert len(marks(svg.read_text())) == 62


def test_a_run_with_logs_and_no_event_says_so_and_an_older_run_says_nothing(tmp_path):
    reports = tmp_path / "reports"
    with_logs = make_run(reports, do_seal=False)
    add_system_events(with_logs, [])
    seal(with_logs)
    make_run(reports)  # an older version's run: no logs/
    _, md_path = render(load_runs([reports]), tmp_path / "out")
    md = md_path.read_text()
    assert md.count("**What the system logged it did:** none of the events Drills reads") == 1
