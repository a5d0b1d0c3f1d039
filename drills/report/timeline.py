"""Timeline and trend plots as hand-written SVG.

Why SVG by hand rather than matplotlib (Agg backend, SVG output):
- the plot is a few hundred rectangles and lines on a time axis: about 300 lines of code here,
  against a 40 MB dependency tree (matplotlib, numpy, pillow, fonttools, ...) that the runner's
  machines would install for nothing else, and ~0.5 s of import per report;
- the output is deterministic and small (no embedded fonts, no random clip-path ids), so reports
  diff cleanly and the evidence hashes of a re-rendered report are stable;
- every element carries a class (`fault-window`, `bin-ok`, `bin-fail`, `recovery`, `rto`) and a
  known colour, which the browser test checks pixel by pixel, and the HTML stays self-contained
  (inline `<svg>`, no network, no base64 blobs).

A timeline has one row per signal. Time is binned (at most `MAX_BINS` bins); each bin is a stacked
bar of the shares of its ops that ended ok (green), failed (red) or indeterminate (amber); a bin
without ops is left empty. Fault windows (inject -> heal) are shaded behind every row; a dashed
blue line marks when every component was ready again, a blue diamond each signal's measured RTO.
Below the signals, one lane per component of what the system logged it did (`SystemEvent`s of
drills.core.events, read by drills.stack.log_events): a mark per event, purple when it gained a leader
or a member, brown when it lost one, grey otherwise, its line in the mark's tooltip (`system_rows`
lists them as a table).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from drills.core.events import Phase, SystemEvent, fault_spans, of_kind
from drills.core.history import Event, Op, Outcome
from drills.stack.log_events import GAINED, LOST

COLORS = {
    "ok": "#2da44e", "fail": "#cf222e", "info": "#bf8700", "fault": "#ffd08a", "recovery": "#0969da",
    "grid": "#d0d7de", "text": "#24292f", "row": "#f6f8fa",
    "gained": "#8250df", "lost": "#953800", "other": "#6e7781",
}
MAX_BINS = 240
WIDTH = 960
LEFT, RIGHT, TOP, ROW_H, ROW_GAP, AXIS_H, LEGEND_H = 150, 20, 36, 28, 10, 26, 24
LANE_H = 16  # a lane of system events
MAX_MARKS = 400  # system events drawn; the rest are counted in the lane's label


@dataclass(frozen=True)
class Span:
    start: float
    end: float | None
    label: str


def _nice_step(span: float, target_ticks: int = 10) -> float:
    raw = span / max(target_ticks, 1)
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    for m in (1, 2, 5, 10):
        if raw <= m * magnitude:
            return float(m * magnitude)
    return float(10 * magnitude)


def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class _Plot:
    """Where things go: the time axis (`t_end` seconds over the plot's width), the rows' heights."""

    t_end: float
    signals_h: int  # the signals' rows
    rows_h: int  # and the system's lanes below them
    height: int

    @property
    def width(self) -> int:
        return WIDTH - LEFT - RIGHT

    def x(self, t: float) -> float:
        """Where time `t` is drawn, clamped to the plot."""
        return LEFT + self.width * min(max(t, 0.0), self.t_end) / self.t_end


def timeline_svg(items: Sequence[Op | Event], journal: dict[str, Any], *, signals_first: Sequence[str] = ()) -> str:
    """The SVG of one run: its history (`items`) against its journal's faults, phases and recovery."""
    ops = [i for i in items if isinstance(i, Op)]
    events = [i for i in items if isinstance(i, Event)]
    system = sorted(of_kind(events, SystemEvent), key=lambda e: e.at)
    lanes = list(dict.fromkeys(_lane(e) for e in system))
    faults = _fault_spans(events, journal)
    phases = [p for p in journal.get("phases") or [] if isinstance(p, dict)]
    order = _signal_order(ops, signals_first)
    signals_h = max(1, len(order)) * (ROW_H + ROW_GAP)
    rows_h = signals_h + len(lanes) * (LANE_H + ROW_GAP)
    plot = _Plot(_t_end(ops, events, faults, phases, journal), signals_h, rows_h, TOP + rows_h + AXIS_H + LEGEND_H)

    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="{WIDTH}" height="{plot.height}" '
        f'viewBox="0 0 {WIDTH} {plot.height}" role="img" font-family="sans-serif" font-size="11">',
        f"<title>Timeline: {len(ops)} operations, {len(faults)} fault(s), {_fmt(plot.t_end)} s</title>",
    ]
    # Fault windows first: behind the bars, visible in the gaps between rows.
    out += _fault_windows(faults, plot)
    out += _phase_ticks(phases, plot)
    out += _signal_rows(ops, order, plot)
    out += _system_marks(system, lanes, plot.x, top=TOP + plot.signals_h)
    out += _recovery_line(journal, plot)
    out += _rto_marks(journal, order, faults, plot)
    out += _time_axis(plot)
    out += _legend(plot, with_system=bool(system))
    out.append("</svg>")
    return "\n".join(out)


def _t_end(ops: Sequence[Op], events: Sequence[Event], faults: Sequence[Span], phases: Sequence[dict[str, Any]],
           journal: dict[str, Any]) -> float:
    """The end of the time axis: the last thing the history or the journal knows of (at least 1 s)."""
    timings = journal.get("timings") or {}
    return max([*(o.end for o in ops), *(e.at for e in events), *(f.end or f.start for f in faults),
                *(float(p.get("end_s") or p.get("start_s") or 0) for p in phases),
                float(timings.get("wall_s") or 0), 1.0])


def _signal_order(ops: Sequence[Op], signals_first: Sequence[str]) -> list[str]:
    """The signals' rows: those of `signals_first` that have ops, in that order, then the rest by name."""
    return list(dict.fromkeys([*(s for s in signals_first if any(o.signal == s for o in ops)),
                               *sorted({o.signal for o in ops})]))


def _fault_windows(faults: Sequence[Span], plot: _Plot) -> list[str]:
    """Each fault's window shaded over every row, labelled above (alternating lines when close)."""
    out: list[str] = []
    for i, f in enumerate(faults):
        x0, x1 = plot.x(f.start), plot.x(f.end if f.end is not None else plot.t_end)
        out.append(f'<rect class="fault-window" x="{x0:.1f}" y="{TOP - 14}" width="{max(x1 - x0, 1.0):.1f}" '
                   f'height="{plot.rows_h + 14}" fill="{COLORS["fault"]}"><title>fault {escape(f.label)}: '
                   f'{_fmt(f.start)} s to {"never healed" if f.end is None else _fmt(f.end) + " s"}</title></rect>')
        out.append(f'<text x="{x0 + 3:.1f}" y="{TOP - 4 - 11 * (i % 2)}" fill="{COLORS["text"]}">'
                   f'fault: {escape(f.label)}{"" if f.end is not None else " (never healed)"}</text>')
    return out


def _phase_ticks(phases: Sequence[dict[str, Any]], plot: _Plot) -> list[str]:
    """The start of the phases a reader times the faults against, as dashed ticks along the top."""
    out: list[str] = []
    for p in phases:
        name = str(p.get("name", ""))
        if name in (Phase.STEADY, Phase.RECOVER, Phase.AFTER, Phase.FINAL_READS):
            px = plot.x(float(p.get("start_s") or 0))
            out.append(f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{TOP - 6}" y2="{TOP + plot.rows_h}" '
                       f'stroke="{COLORS["grid"]}" stroke-dasharray="2,3"><title>{escape(name)} begins at '
                       f'{_fmt(float(p.get("start_s") or 0))} s</title></line>')
    return out


def _bin_counts(ops: Sequence[Op], order: Sequence[str], n_bins: int, dt: float) -> dict[str, list[list[int]]]:
    """Per signal, per bin of `dt` seconds: how many of its ops that started then ended ok, failed, info."""
    counts: dict[str, list[list[int]]] = {s: [[0, 0, 0] for _ in range(n_bins)] for s in order}
    slot = {Outcome.OK: 0, Outcome.FAIL: 1, Outcome.INFO: 2}
    for o in ops:
        counts[o.signal][min(n_bins - 1, max(0, int(o.start / dt)))][slot[o.outcome]] += 1
    return counts


def _signal_rows(ops: Sequence[Op], order: Sequence[str], plot: _Plot) -> list[str]:
    """A row per signal: its name, and per time bin a bar stacked from the shares of its outcomes."""
    n_bins = max(1, min(MAX_BINS, math.ceil(plot.t_end / 0.1)))
    counts = _bin_counts(ops, order, n_bins, plot.t_end / n_bins)
    bw = plot.width / n_bins
    out: list[str] = []
    for row, signal in enumerate(order):
        y = TOP + row * (ROW_H + ROW_GAP)
        out.append(f'<text x="{LEFT - 8}" y="{y + ROW_H / 2 + 4:.1f}" text-anchor="end" '
                   f'fill="{COLORS["text"]}">{escape(signal)}</text>')
        for b, outcomes in enumerate(counts[signal]):
            out += _stacked_bin(LEFT + b * bw, float(y), bw, outcomes)
    return out


def _stacked_bin(bx: float, top: float, bw: float, outcomes: Sequence[int]) -> list[str]:
    """One bin's bar from its counts of ok, failed and indeterminate ops: failed on top, then
    indeterminate, then ok; nothing for a bin without ops."""
    ok, fail, info = outcomes
    total = ok + fail + info
    out: list[str] = []
    if not total:
        return out
    for share, cls in ((fail, "fail"), (info, "info"), (ok, "ok")):
        if share:
            h = ROW_H * share / total
            out.append(f'<rect class="bin-{cls}" x="{bx:.2f}" y="{top:.2f}" width="{bw + 0.05:.2f}" '
                       f'height="{h:.2f}" fill="{COLORS[cls]}"/>')
            top += h
    return out


def _recovery_line(journal: dict[str, Any], plot: _Plot) -> list[str]:
    """A dashed line where every component was ready again (none when the journal does not say)."""
    ready = _ready_at(journal)
    if ready is None:
        return []
    rx = plot.x(ready)
    return [f'<line class="recovery" x1="{rx:.1f}" x2="{rx:.1f}" y1="{TOP - 14}" y2="{TOP + plot.rows_h}" '
            f'stroke="{COLORS["recovery"]}" stroke-width="2" stroke-dasharray="6,3"/>',
            f'<text x="{rx + 3:.1f}" y="{TOP + plot.rows_h - 2}" fill="{COLORS["recovery"]}">ready '
            f'{_fmt(ready)} s</text>']


def _rto_marks(journal: dict[str, Any], order: Sequence[str], faults: Sequence[Span], plot: _Plot) -> list[str]:
    """A diamond on each signal's row at its measured RTO, counted from the first fault."""
    fault_at = min((f.start for f in faults), default=None)
    out: list[str] = []
    for row, signal in enumerate(order):
        rto = _rto(journal, signal)
        if rto is None or fault_at is None:
            continue
        cx, cy = plot.x(fault_at + rto), TOP + row * (ROW_H + ROW_GAP) + ROW_H / 2
        out.append(f'<path class="rto" d="M{cx:.1f},{cy - 7:.1f} l7,7 l-7,7 l-7,-7 z" fill="{COLORS["recovery"]}" '
                   f'stroke="#ffffff"><title>{escape(signal)}: RTO {_fmt(rto)} s</title></path>')
    return out


def _time_axis(plot: _Plot) -> list[str]:
    """The axis below the rows, ticked at a round step, in seconds since the drill began."""
    axis_y = TOP + plot.rows_h
    out = [f'<line x1="{LEFT}" x2="{LEFT + plot.width}" y1="{axis_y}" y2="{axis_y}" stroke="{COLORS["text"]}"/>']
    step = _nice_step(plot.t_end)
    t = 0.0
    while t <= plot.t_end + 1e-9:
        tx = plot.x(t)
        out.append(f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{axis_y}" y2="{axis_y + 4}" stroke="{COLORS["text"]}"/>'
                   f'<text x="{tx:.1f}" y="{axis_y + 15}" text-anchor="middle" fill="{COLORS["text"]}">'
                   f'{_fmt(t)}</text>')
        t += step  # summed, not multiplied: the ticks fall where they always have
    out.append(f'<text x="{LEFT + plot.width}" y="{axis_y + 15}" text-anchor="end" fill="{COLORS["text"]}" '
               f'dy="10">s since start</text>')
    return out


def _legend(plot: _Plot, *, with_system: bool) -> list[str]:
    """The colours' meanings along the bottom; the system's only when it has events."""
    ly = plot.height - 8
    lx = LEFT
    legend = [("ok", "ok"), ("fail", "failed"), ("info", "indeterminate"), ("fault", "fault window"),
              ("recovery", "ready / RTO")]
    if with_system:
        legend += [("gained", "system: gained"), ("lost", "lost"), ("other", "other")]
    out: list[str] = []
    for cls, label in legend:
        out.append(f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="{COLORS[cls]}"/>'
                   f'<text x="{lx + 14}" y="{ly}" fill="{COLORS["text"]}">{label}</text>')
        lx += 24 + 7 * len(label)
    return out


def _lane(event: SystemEvent) -> str:
    return event.component or event.service or "system"


def _category(kind: str) -> str:
    return "gained" if kind in GAINED else "lost" if kind in LOST else "other"


def _system_marks(system: Sequence[SystemEvent], lanes: Sequence[str], x: Callable[[float], float], *,
                  top: float) -> list[str]:
    """A lane per component below the signals: its label, and a mark per event (at most MAX_MARKS)."""
    out: list[str] = []
    drawn = {lane: 0 for lane in lanes}
    for e in system[:MAX_MARKS]:
        lane = _lane(e)
        drawn[lane] += 1
        y = top + lanes.index(lane) * (LANE_H + ROW_GAP) + LANE_H / 2
        kind = e.kind
        cls = _category(kind)
        tip = f"{_fmt(e.at)} s {e.service}: {kind} {e.subject}".rstrip() + f" | {e.line}"
        out.append(f'<path class="system-event" data-kind="{escape(kind)}" d="M{x(e.at):.1f},{y - 6:.1f} '
                   f'l4,6 l-4,6 l-4,-6 z" fill="{COLORS[cls]}"><title>{escape(tip)}</title></path>')
    for row, lane in enumerate(lanes):
        y = top + row * (LANE_H + ROW_GAP) + LANE_H / 2 + 4
        total = sum(1 for e in system if _lane(e) == lane)
        more = f" (+{total - drawn[lane]})" if total > drawn[lane] else ""
        out.append(f'<text class="system-lane" x="{LEFT - 8}" y="{y:.1f}" text-anchor="end" '
                   f'fill="{COLORS["text"]}">{escape(lane)} (logs){more}</text>')
    return out


def system_rows(items: Sequence[Op | Event], journal: dict[str, Any], limit: int = 50) -> tuple[list[dict[str, str]],
                                                                                             int]:
    """The system's own events of a run, in time order, as table rows (the first `limit`), and how
    many more there are. Each says in which phase of the drill it fell."""
    system = sorted(of_kind((i for i in items if isinstance(i, Event)), SystemEvent), key=lambda e: e.at)
    phases = sorted(((float(p.get("start_s") or 0), str(p.get("name", ""))) for p in journal.get("phases") or []
                     if isinstance(p, dict)), key=lambda p: p[0])
    rows = []
    for e in system[:limit]:
        phase = next((name for start, name in reversed(phases) if start <= e.at), "")
        line = e.line
        rows.append({"at": f"{e.at:.2f}", "phase": phase, "service": e.service, "component": e.component,
                     "kind": e.kind, "subject": e.subject, "category": _category(e.kind),
                     "line": line if len(line) <= 200 else line[:200] + "…"})
    return rows, max(0, len(system) - limit)


def _fault_spans(events: Sequence[Event], journal: dict[str, Any]) -> list[Span]:
    """Fault windows from the journal (it names what was hit), else from the history's events."""
    spans = []
    for f in journal.get("faults") or []:
        if isinstance(f, dict) and isinstance(f.get("injected_s"), int | float):
            healed = f.get("healed_s")
            spans.append(Span(float(f["injected_s"]), float(healed) if isinstance(healed, int | float) else None,
                              f"{f.get('kind', '')} {f.get('target', '')}".strip()))
    if spans:
        return spans
    return [Span(s.injected, s.healed, s.detail or s.fault) for s in fault_spans(events)]


def _ready_at(journal: dict[str, Any]) -> float | None:
    recovery = journal.get("recovery") or {}
    since = recovery.get("since_heal_s") if isinstance(recovery, dict) else None
    healed = [float(f["healed_s"]) for f in journal.get("faults") or []
              if isinstance(f, dict) and isinstance(f.get("healed_s"), int | float)]
    if not isinstance(since, int | float) or not healed:
        return None
    return max(healed) + float(since)


def _rto(journal: dict[str, Any], signal: str) -> float | None:
    """The RTO a verdict about this signal measured (the metric its checker declares as RTO)."""
    from drills.checkers.registry import metrics_of

    for v in journal.get("verdicts") or []:
        if isinstance(v, dict) and v.get("subject") == signal:
            for m in metrics_of(v.get("checker")):
                rto = (v.get("measured") or {}).get(m.measured) if m.kind == "RTO" else None
                if isinstance(rto, int | float):
                    return float(rto)
    return None


def trend_svg(points: Sequence[tuple[str, float | None, str]], target: float | None, unit: str) -> str:
    """Bars of one measurement over runs (label, value or None, status) with the target as a line."""
    width, height, left, bottom, top = 420, 110, 44, 18, 8
    values = [v for _, v, _ in points if v is not None]
    vmax = max([*values, target or 0.0, 1e-9]) * 1.15
    plot_h = height - bottom - top
    bw = (width - left - 8) / max(len(points), 1)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="trend" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" font-family="sans-serif" font-size="10">',
           f'<line x1="{left}" x2="{width - 8}" y1="{height - bottom}" y2="{height - bottom}" '
           f'stroke="{COLORS["text"]}"/>',
           f'<text x="{left - 4}" y="{top + 8}" text-anchor="end" fill="{COLORS["text"]}">{_fmt(vmax)} {unit}</text>']
    for i, (label, value, status) in enumerate(points):
        bx = left + i * bw + 2
        if value is None:
            out.append(f'<text x="{bx + bw / 2 - 2:.1f}" y="{height - bottom - 4}" text-anchor="middle" '
                       f'fill="{COLORS["info"]}">n/m<title>{escape(label)}: not measured ({escape(status)})</title>'
                       f'</text>')
            continue
        h = plot_h * value / vmax
        color = COLORS["ok"] if target is None or value <= target else COLORS["fail"]
        out.append(f'<rect x="{bx:.1f}" y="{height - bottom - h:.1f}" width="{max(bw - 4, 1):.1f}" height="{h:.1f}" '
                   f'fill="{color}"><title>{escape(label)}: {_fmt(value)} {unit}</title></rect>')
    if target is not None:
        ty = height - bottom - plot_h * target / vmax
        out.append(f'<line x1="{left}" x2="{width - 8}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="{COLORS["recovery"]}" '
                   f'stroke-dasharray="4,2"/><text x="{left - 4}" y="{ty + 3:.1f}" text-anchor="end" '
                   f'fill="{COLORS["recovery"]}">{_fmt(target)}</text>')
    out.append(f'<text x="{left}" y="{height - 4}" fill="{COLORS["text"]}">oldest → newest run</text></svg>')
    return "\n".join(out)
