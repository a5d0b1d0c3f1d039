"""The timeline plot: elements where the history says, checked on the SVG itself."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from drills.core.history import Event, Op, Outcome
from drills.report.timeline import COLORS, LEFT, RIGHT, WIDTH, timeline_svg, trend_svg

NS = "{http://www.w3.org/2000/svg}"
PLOT_W = WIDTH - LEFT - RIGHT


def history(t_end: float = 20.0, outage: tuple[float, float] = (5.0, 9.0)) -> list[Op | Event]:
    items: list[Op | Event] = [Event("inject", 4.0, {"fault": "f", "kind": "kill", "target": "pg"}),
                               Event("heal", 12.0, {"fault": "f"})]
    t, i = 0.0, 0
    while t < t_end:
        down = outage[0] <= t < outage[1]
        items.append(Op("postgres.write", 0, "write", i, t, t + 0.01, Outcome.FAIL if down else Outcome.OK))
        items.append(Op("http.dashboard", 0, "probe", i, t, t + 0.01, Outcome.INFO if i == 7 else Outcome.OK))
        t, i = t + 0.05, i + 1
    return items


JOURNAL = {
    "faults": [{"kind": "kill", "target": "postgres.leader", "injected_s": 4.0, "healed_s": 12.0}],
    "recovery": {"since_heal_s": 3.0}, "timings": {"wall_s": 20.0},
    "phases": [{"name": "steady", "start_s": 0.0, "end_s": 4.0}, {"name": "after", "start_s": 15.0, "end_s": 20.0}],
    "verdicts": [{"checker": "availability", "subject": "postgres.write", "measured": {"rto_s": 5.5}}],
}


def x_of(t: float, t_end: float = 20.0) -> float:
    return LEFT + PLOT_W * t / t_end


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def by_class(root: ET.Element, cls: str) -> list[ET.Element]:
    return [e for e in root.iter() if e.get("class") == cls]


def test_fault_window_spans_injection_to_heal():
    root = parse(timeline_svg(history(), JOURNAL))
    (window,) = by_class(root, "fault-window")
    x, w = float(window.get("x", "0")), float(window.get("width", "0"))
    assert abs(x - x_of(4.0)) < 0.2 and abs(x + w - x_of(12.0)) < 0.2
    assert window.get("fill") == COLORS["fault"]
    assert "kill postgres.leader" in "".join(root.itertext())


def test_failed_bins_cover_exactly_the_outage():
    root = parse(timeline_svg(history(), JOURNAL, signals_first=["postgres.write"]))
    fails = by_class(root, "bin-fail")
    assert fails
    first = min(float(e.get("x", "0")) for e in fails)
    last = max(float(e.get("x", "0")) + float(e.get("width", "0")) for e in fails)
    assert abs(first - x_of(5.0)) < 4 and abs(last - x_of(9.0)) < 4
    rows = {e.get("y") for e in fails}
    assert len(rows) == 1  # all in the postgres.write row, the first one
    labels = [t.text for t in root.iter(f"{NS}text")]
    assert labels.index("postgres.write") < labels.index("http.dashboard")
    assert by_class(root, "bin-info"), "the indeterminate op is drawn"
    assert len(by_class(root, "bin-ok")) > 100


def test_recovery_and_rto_markers():
    root = parse(timeline_svg(history(), JOURNAL))
    (line,) = by_class(root, "recovery")
    assert abs(float(line.get("x1", "0")) - x_of(15.0)) < 0.2
    (rto,) = by_class(root, "rto")
    assert rto.get("d", "").startswith(f"M{x_of(4.0 + 5.5):.1f},")


def test_an_unhealed_fault_is_shaded_to_the_end_and_said():
    journal = {**JOURNAL, "faults": [{"kind": "partition", "target": "pg1", "injected_s": 4.0}], "recovery": {}}
    root = parse(timeline_svg(history(), journal))
    (window,) = by_class(root, "fault-window")
    assert abs(float(window.get("x", "0")) + float(window.get("width", "0")) - x_of(20.0)) < 0.5
    assert "(never healed)" in "".join(root.itertext())
    assert not by_class(root, "recovery")


def test_faults_come_from_the_history_when_the_journal_has_none():
    root = parse(timeline_svg(history(), {}))
    (window,) = by_class(root, "fault-window")
    assert abs(float(window.get("x", "0")) - x_of(4.0, 20.0)) < 0.5


def test_text_from_the_history_is_escaped():
    items = [Op("<b>x</b>", 0, "w", 1, 0.0, 0.1, Outcome.OK)]
    svg = timeline_svg(items, {"faults": [{"kind": "<kill>", "target": "&", "injected_s": 0.0}]})
    parse(svg)  # well-formed
    assert "<b>" not in svg and "&lt;kill&gt;" in svg


def test_trend_bars_are_red_above_the_target_and_not_measured_is_said():
    root = parse(trend_svg([("#1", 8.0, "pass"), ("#2", 25.0, "fail"), ("#3", None, "not measured")], 20.0, "s"))
    bars = [e for e in root.iter(f"{NS}rect")]
    assert [b.get("fill") for b in bars] == [COLORS["ok"], COLORS["fail"]]
    assert float(bars[1].get("height", "0")) > float(bars[0].get("height", "0"))
    assert "n/m" in "".join(root.itertext())
