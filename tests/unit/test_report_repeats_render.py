"""The report's section on repeated runs and its strip plot, from complete synthetic runs."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from drills.report.render import TIMELINES, render
from drills.report.repeats import Distribution, MetricKey
from drills.report.runs import load_runs
from drills.report.strip import LEFT, RIGHT_TEXT, WIDTH, distribution_svg
from tests.report_factory import make_not_run, make_run

NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("reports")
    make_run(root)  # passed
    make_run(root, outage=(5.3, 27.0), lost=3, after=15.0)  # failed: RTO and RPO broken
    make_run(root, outage=(5.3, 12.0))  # passed
    make_not_run(root)  # the only run of rabbitmq-node-partition: no distribution of one run
    return root


@pytest.fixture(scope="module")
def rendered(reports, tmp_path_factory) -> tuple[str, str, Path]:
    out = tmp_path_factory.mktemp("out")
    html_path, md_path = render(load_runs([reports]), out)
    return html_path.read_text(), md_path.read_text(), out


def measured_rtos(reports: Path) -> list[float]:
    out = []
    for path in sorted(reports.glob("*/journal.json")):
        journal = json.loads(path.read_text())
        for v in journal["verdicts"]:
            if v["checker"] == "availability" and v["subject"] == "postgres.write":
                out.append(v["measured"]["rto_s"])
    return out


def test_markdown_shows_pass_rate_flaky_and_the_distributions(rendered, reports):
    _, md, out = rendered
    section = md.split("## Repeated runs")[1].split("\n## ")[0]
    assert "### postgres-leader-kill — FLAKY" in section
    assert "2/3 passed (1 failed) over 3 runs." in section
    assert "rabbitmq-node-partition" not in section  # one run: nothing to aggregate
    assert "nearest rank" in section
    rtos = sorted(measured_rtos(reports))
    assert len(rtos) == 3
    row = re.search(r"^\| RTO postgres.write \(s\) \| 20.0 s \| 3 \| (.*) \|$", section, re.MULTILINE)
    assert row, section
    cells = [c.strip() for c in row.group(1).split("|")]
    # min, p50 (nearest rank of 3: the 2nd), p95 (the 3rd), max, over target, not measured
    assert cells == [f"{rtos[0]:.1f} s", f"{rtos[1]:.1f} s", f"{rtos[2]:.1f} s", f"{rtos[2]:.1f} s", "1", "0"]
    assert re.search(r"^\| RPO postgres.write \(writes\) \| 0 writes \| 3 \| 0 writes \| 0 writes \| 3 writes \| "
                     r"3 writes \| 1 \| 0 \|$", section, re.MULTILINE)
    image = re.search(r"!\[[^]]*\]\(([^)]+\.svg)\)", section)
    assert image and image.group(1) == f"{TIMELINES}/repeats-postgres-leader-kill.svg"
    svg = ET.fromstring((out / image.group(1)).read_text())
    assert len(svg.findall(f"{NS}circle")) >= 3


def test_html_has_the_section_with_an_inline_plot(rendered):
    html, _, _ = rendered
    section = html.split('<section id="repeats">')[1].split("</section>")[0]
    assert '<span class="badge fail small">FLAKY</span>' in section
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="strip"' in section
    assert section.index("RTO postgres.write (s)") < section.index("outage postgres.write (s)") \
        < section.index("RPO postgres.write (writes)")


def test_no_section_when_every_scenario_ran_once(tmp_path):
    reports = tmp_path / "reports"
    make_run(reports)
    html_path, md_path = render(load_runs([reports]), tmp_path / "out")
    assert "Repeated runs" not in md_path.read_text()
    assert 'id="repeats"' not in html_path.read_text()


def test_the_strip_plot_puts_each_run_where_its_value_is():
    d = Distribution(MetricKey("RTO", "postgres.write", "s"), 20.0, (9.0, 25.0, 12.0), ("#1", "#2", "#3"), 1)
    svg = ET.fromstring(distribution_svg([d], runs=4))
    dots = svg.findall(f"{NS}circle")
    assert [c.get("class") for c in dots] == ["sample sample-ok", "sample sample-fail", "sample sample-ok"]
    plot_w = WIDTH - LEFT - RIGHT_TEXT
    xs = [float(c.get("cx", "nan")) for c in dots]
    scale = (xs[1] - LEFT) / 25.0  # the axis is linear from 0 at LEFT
    assert xs[0] == pytest.approx(LEFT + 9.0 * scale, abs=0.2) and xs[2] == pytest.approx(LEFT + 12.0 * scale, abs=0.2)
    assert LEFT < max(xs) <= LEFT + plot_w
    lines = {line.get("class"): float(line.get("x1", "nan")) for line in svg.findall(f"{NS}line") if line.get("class")}
    assert lines["p50"] == pytest.approx(xs[2], abs=0.2) and lines["p95"] == pytest.approx(xs[1], abs=0.2)
    assert lines["target"] == pytest.approx(LEFT + 20.0 * scale, abs=0.2)
    assert "n=3, 1 n/m" in "".join(svg.itertext())


def test_no_plot_without_a_measured_value():
    d = Distribution(MetricKey("RTO", "w", "s"), None, (), (), 3)
    assert distribution_svg([d], runs=3) == ""
