"""Strip plots of repeated runs, as hand-written SVG (why by hand: see `drills.report.timeline`).

One row per metric (RTO, outage, RPO of a signal), each on its own axis from 0 to a little past
the largest sample or the target: one dot per measured sample (green within the target, red over
it, grey when there is no target), a short bar at p50 and a taller one at p95, the target as a
dashed blue line. Dots that would overlap are spread vertically by their index, never moved in x.
Classes (`sample`, `sample-ok`, `sample-fail`, `p50`, `p95`, `target`) let tests find elements.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from drills.report.repeats import Distribution, fmt_value
from drills.report.timeline import COLORS, _nice_step

WIDTH = 720
LEFT, RIGHT_TEXT, TOP, ROW_H, AXIS_H = 200, 210, 10, 30, 14
NO_TARGET = "#57606a"


def _fmt(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _axis_end(largest: float) -> float:
    """A round number a little past `largest` (1 when everything is 0)."""
    if largest <= 0:
        return 1.0
    step = _nice_step(largest * 1.05, 5)
    return float(math.ceil(largest * 1.05 / step) * step)


def distribution_svg(dists: Sequence[Distribution], *, runs: int) -> str:
    """The strip plot of the measured metrics of one scenario over `runs` runs ("" when none was measured)."""
    rows = [d for d in dists if d.n]
    if not rows:
        return ""
    plot_w = WIDTH - LEFT - RIGHT_TEXT
    height = TOP + len(rows) * ROW_H + AXIS_H
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="strip" width="{WIDTH}" height="{height}" '
           f'viewBox="0 0 {WIDTH} {height}" role="img" font-family="sans-serif" font-size="10">',
           f"<title>{len(rows)} measure(s) over {runs} run(s): one dot per run, bars at p50 and p95</title>"]
    for row, d in enumerate(rows):
        y = TOP + row * ROW_H
        mid = y + ROW_H / 2
        vmax = _axis_end(max([*d.values, d.target or 0.0]))

        def x(v: float, vmax: float = vmax) -> float:
            return LEFT + plot_w * v / vmax

        out.append(f'<text x="{LEFT - 8}" y="{mid + 3:.1f}" text-anchor="end" fill="{COLORS["text"]}">'
                   f'{escape(d.key.label)}</text>')
        out.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{mid:.1f}" y2="{mid:.1f}" stroke="{COLORS["grid"]}"/>')
        out.append(f'<text x="{LEFT}" y="{y + ROW_H - 1}" fill="{COLORS["text"]}" font-size="8">0</text>'
                   f'<text x="{LEFT + plot_w}" y="{y + ROW_H - 1}" text-anchor="end" fill="{COLORS["text"]}" '
                   f'font-size="8">{_fmt(vmax)} {escape(d.key.unit)}</text>')
        if d.target is not None:
            tx = x(d.target)
            out.append(f'<line class="target" x1="{tx:.1f}" x2="{tx:.1f}" y1="{y + 2}" y2="{y + ROW_H - 8}" '
                       f'stroke="{COLORS["recovery"]}" stroke-dasharray="3,2"><title>target '
                       f'{escape(fmt_value(d.target, d.key.unit))}</title></line>')
        for i, (value, label) in enumerate(zip(d.values, d.labels, strict=True)):
            if d.target is None:
                cls, color = "sample", NO_TARGET
            elif value <= d.target:
                cls, color = "sample sample-ok", COLORS["ok"]
            else:
                cls, color = "sample sample-fail", COLORS["fail"]
            dy = ((i % 5) - 2) * 2.5
            out.append(f'<circle class="{cls}" cx="{x(value):.1f}" cy="{mid + dy:.1f}" r="3" fill="{color}" '
                       f'fill-opacity="0.75"><title>{escape(label)}: {escape(fmt_value(value, d.key.unit))}'
                       f'</title></circle>')
        for name, pv, half in (("p50", d.p50, 6), ("p95", d.p95, 10)):
            if pv is None:
                continue
            px = x(pv)
            out.append(f'<line class="{name}" x1="{px:.1f}" x2="{px:.1f}" y1="{mid - half:.1f}" '
                       f'y2="{mid + half:.1f}" stroke="{COLORS["text"]}" stroke-width="2"><title>{name} '
                       f'{escape(fmt_value(pv, d.key.unit))}</title></line>')
        tail = f"n={d.n}" + (f", {d.not_measured} n/m" if d.not_measured else "")
        out.append(f'<text x="{LEFT + plot_w + 8}" y="{mid + 3:.1f}" fill="{COLORS["text"]}">'
                   f'p50 {escape(fmt_value(d.p50, d.key.unit))} · p95 {escape(fmt_value(d.p95, d.key.unit))} '
                   f'· {tail}</text>')
    out.append(f'<text x="{LEFT}" y="{height - 2}" fill="{COLORS["text"]}">dot: one run · short bar: p50 · '
               f'tall bar: p95 · dashed: target</text></svg>')
    return "\n".join(out)
