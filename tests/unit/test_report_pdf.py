"""`drill report --format pdf`: a suite's runs rendered by the command, its pages looked at as images,
its text read back and held against the HTML report's verdicts."""

from __future__ import annotations

import html as htmllib
import re
import sys
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner
from PIL import ImageStat

from drills.cli import main as cli
from drills.report.render import REPORT_NAME
from drills.report.timeline import COLORS
from tests.report_factory import make_not_run, make_run

pytestmark = pytest.mark.slow  # WeasyPrint lays out ~20 pages: seconds, not milliseconds


@pytest.fixture(scope="module")
def suite(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("reports")
    make_run(root)  # 1 passed
    make_run(root, outage=(5.3, 27.0), lost=3, after=15.0)  # 2 failed: RTO, RPO and failover broken
    make_not_run(root)  # 3 NOT RUN
    make_run(root, status="error", reason="StackError: pg1 refused")  # 4 error, no verdicts
    make_run(root)  # 5 passed again
    return root


@pytest.fixture(scope="module")
def reports(suite, tmp_path_factory) -> tuple[str, Any]:
    """The HTML and the PDF of the same runs, each written by `drill report`."""
    out = tmp_path_factory.mktemp("out")
    for fmt in ("html", "pdf"):
        result = CliRunner().invoke(cli.cli, ["report", str(suite), "--out", str(out), "--format", fmt])
        assert result.exit_code == 0, result.output
        assert result.output.strip() == str(out / f"{REPORT_NAME}.{fmt}")
    assert not (out / f"{REPORT_NAME}.md").exists()
    html = (out / f"{REPORT_NAME}.html").read_text()
    return html, pdfium.PdfDocument(out / f"{REPORT_NAME}.pdf")


def _html_runs(html: str) -> list[dict[str, Any]]:
    """Each run section of the HTML: its sequence number, title, status and verdict rows."""
    runs = []
    for section in html.split('<section class="scenario"')[1:]:
        head = re.search(r'<h2>#(\S+) (.*?) <span class="badge \w+">([A-Z-]+)</span></h2>', section)
        assert head, section[:300]
        table = re.search(r'<table class="verdicts">(.*?)</table>', section, re.DOTALL)
        verdicts = re.findall(r'<tr><td><span class="badge \w+ small">([A-Z ]+)</span></td><td>([^<]*)</td>',
                              table.group(1)) if table else []
        runs.append({"seq": head.group(1), "title": htmllib.unescape(head.group(2)), "status": head.group(3),
                     "verdicts": verdicts})
    return runs


def _pdf_text(pdf: Any) -> str:
    # PDFium reads a hyphen ending a line as U+FFFE and joins the word: `steady-state` cut in its cell.
    return "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf))).replace("\ufffe", "-")


def test_pages_are_a4_not_blank_and_as_many_as_the_runs_need(reports):
    html, pdf = reports
    runs = len(_html_runs(html))
    # Each run starts a page (print CSS); a run never takes ten.
    assert runs < len(pdf) < 10 * runs
    for i in range(len(pdf)):
        page = pdf[i]
        assert page.get_size() == pytest.approx((595.28, 841.89), abs=0.5)  # A4 in points
        image = page.render(scale=0.5).to_pil().convert("L")
        width, height = image.size
        body = image.crop((0, 0, width, int(height * (1 - 16 / 297))))  # above the footer's 16 mm margin
        # A blank body (or a text-less one: no font found) is one flat grey: no variance at all.
        assert ImageStat.Stat(body).stddev[0] > 3, f"page {i + 1} looks blank"
    last = pdf[len(pdf) - 1].get_textpage().get_text_range()
    assert f"page {len(pdf)} of {len(pdf)}" in last


def _rgb(hex_color: str) -> tuple[int, int, int]:
    return int(hex_color[1:3], 16), int(hex_color[3:5], 16), int(hex_color[5:7], 16)


def _pixels_near(image: Any, color: str, tolerance: int = 12) -> int:
    target = _rgb(color)
    return sum(n for n, px in image.getcolors(maxcolors=1 << 20)
               if all(abs(a - b) <= tolerance for a, b in zip(px, target, strict=True)))


def test_each_run_page_draws_its_timeline(reports):
    html, pdf = reports
    text = [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    for run in _html_runs(html):
        first = next(i for i, t in enumerate(text) if re.search(rf"^#{run['seq']} ", t, re.MULTILINE))
        image = pdf[first].render(scale=1.5).to_pil().convert("RGB")
        ok, failed = _pixels_near(image, COLORS["ok"]), _pixels_near(image, COLORS["fail"])
        if run["status"] == "NOT-RUN":  # nothing ran: no timeline, said so in words
            assert ok == 0 and "No timeline" in text[first]
        else:  # the timeline's bars: green where ops succeeded, red in each run's outage
            assert ok > 2000 and failed > 500, (run, ok, failed)


def test_pdf_text_holds_the_html_verdicts_of_every_run(reports):
    html, pdf = reports
    runs = _html_runs(html)
    assert [r["status"] for r in runs] == ["PASSED", "FAILED", "NOT-RUN", "ERROR", "PASSED"]
    assert {s for r in runs for s, _ in r["verdicts"]} == {"PASS", "FAIL"}
    text = _pdf_text(pdf)
    starts = []
    for run in runs:
        words = r"\s+".join(map(re.escape, f"#{run['seq']} {run['title']} {run['status']}".split()))
        found = re.search(words, text)
        assert found, f"run #{run['seq']} {run['status']} not in the PDF"
        starts.append(found.start())
    assert starts == sorted(starts)  # in the HTML's order
    ends = [*starts[1:], text.index("Issues found and remediation")]
    for run, start, end in zip(runs, starts, ends, strict=True):
        section = text[start:end]
        table = section[section.find("Expected vs observed"):section.find("Phases, faults, recovery")]
        # A verdict row starts a line with its badge, then its checker.
        rows = re.findall(r"^(PASS|FAIL|NOT MEASURED) (\S+)", table, re.MULTILINE)
        assert rows == run["verdicts"], run["seq"]


class _NoPango:
    """An import of weasyprint failing as it does where Pango is not installed."""

    def find_spec(self, name: str, *_: Any) -> None:
        if name == "weasyprint":
            raise OSError("cannot load library 'libpango-1.0-0': libpango-1.0-0: cannot open shared object file")


def test_missing_libraries_say_to_run_drill_setup(suite, tmp_path, monkeypatch, capsys):
    monkeypatch.delitem(sys.modules, "weasyprint", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_NoPango(), *sys.meta_path])
    with pytest.raises(SystemExit) as exited:
        cli.main(["report", str(suite), "--out", str(tmp_path), "--format", "pdf"])
    assert exited.value.code != 0
    err = capsys.readouterr().err
    assert "system libraries" in err and "run `drill setup`" in err and "libpango-1.0-0" in err
    assert "Traceback" not in err
    assert not (tmp_path / f"{REPORT_NAME}.pdf").exists()
