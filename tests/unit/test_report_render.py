"""The DR-readiness report, rendered from complete synthetic runs (real writers, real checkers)."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from drills.cli import main as cli
from drills.report.readiness import components
from drills.report.render import CONTROLS, REPORT_NAME, TIMELINES, render
from drills.report.render import _num as shown
from drills.report.runs import load_runs, redact, trend
from tests.report_factory import make_not_run, make_run

SECRET = "pg-Sup3rS3cret-9f8e7d"
APP_SECRET = "app-T0ken-1a2b3c4d"


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("reports")
    make_run(root)  # 1 passed
    make_run(root, outage=(5.3, 27.0), lost=3, after=15.0,  # 2 failed: RTO and RPO broken
             secrets={"DRILLS_PG_SUPERUSER_PASSWORD": SECRET, "api_token": APP_SECRET})
    make_not_run(root)  # 3 NOT RUN
    make_run(root, status="error", reason=f"StackError: pg1 refused: postgres://app:{SECRET}@pg1/app")  # 4
    return root


@pytest.fixture(scope="module")
def rendered(reports, tmp_path_factory, monkeypatch_module) -> tuple[str, str, Path]:
    monkeypatch_module.setenv("DRILLS_APP_PASSWORD", APP_SECRET)
    out = tmp_path_factory.mktemp("out")
    paths = render(load_runs([reports]), out)
    assert [p.name for p in paths] == [f"{REPORT_NAME}.html", f"{REPORT_NAME}.md"]
    return paths[0].read_text(), paths[1].read_text(), out


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_every_run_is_in_the_sequence_with_its_status(rendered):
    html, md, _ = rendered
    rows = re.findall(r"^\| (\d+) \| `([^`]+)` \| ([a-z-]+) \| ([A-Z-]+) \|", md, re.MULTILINE)
    assert [(int(s), sc, st) for s, _, sc, st in rows] == [
        (1, "postgres-leader-kill", "PASSED"), (2, "postgres-leader-kill", "FAILED"),
        (3, "rabbitmq-node-partition", "NOT-RUN"), (4, "postgres-leader-kill", "ERROR")]
    assert "sequence #1\u2013#4: 1 passed, 1 failed, 1 error, 1 not-run." in md
    assert "intact</span> — 4 sealed run(s), chain head #4" in html


def test_rto_and_rpo_targets_are_set_against_the_measured_values(rendered):
    _, md, _ = rendered
    sections = md.split("\n## #")
    passed, failed, not_run, error = sections[1:5]
    assert re.search(r"\| RTO \| postgres.write \| 20 s \| (9|1\d)\.\d+ s \| PASS \|", passed)
    assert "| RPO | postgres.write | 0 writes | 0 writes | PASS |" in passed
    assert re.search(r"\| RTO \| postgres.write \| 20 s \| 2\d\.\d+ s \| FAIL \|", failed)
    assert "| RPO | postgres.write | 0 writes | 3 writes | FAIL |" in failed
    assert "| RPO | rabbitmq.publish | 0 messages | not measured | NOT RUN |" in not_run
    assert "| RTO | postgres.write | 20 s | not measured | NOT MEASURED |" in error
    for section in (passed, failed, not_run, error):
        assert "**Backup integrity:** not measured" in section
        assert "**Policy encoded:**" in section and "**Objective:**" in section and "**Scope:** component" in section


def test_expectations_verdicts_and_issues(rendered):
    html, md, _ = rendered
    failed = md.split("\n## #")[2]
    assert "| lost-writes | postgres.write | max_lost: 0 |" in failed
    assert re.search(r"\| \*\*FAIL\*\* \| lost-writes \| postgres.write \| acknowledged writes lost <= 0 \| "
                     r"3 of \d+ acknowledged writes lost", failed)
    issues = md.split("## Issues found and remediation")[1].split("## Run sequence")[0]
    assert "| #2 | postgres-leader-kill | FAIL lost-writes postgres.write:" in issues
    assert "| #4 | postgres-leader-kill | ERROR: StackError: pg1 refused" in issues
    assert "NOT RUN" not in issues.upper().replace("NOT-RUN", "")  # a skipped scenario is not an issue found
    assert 'id="review"' in html and "reviewer (name, role)" in md


def test_component_summary_and_controls_table(rendered, reports):
    _, md, _ = rendered
    # postgres-leader-kill passed, failed, then errored: FLAKY over the runs reported
    assert "| postgres | **NOT READY** | 1 | FLAKY postgres-leader-kill: 1/3 passed, latest #4 ERROR |" in md
    assert "| rabbitmq | **UNVERIFIED** | 1 | NOT RUN rabbitmq-node-partition: 0/1 passed, latest #3 NOT-RUN |" in md
    for need, _where, _controls in CONTROLS:
        assert f"| {need} |" in md
    text = " ".join(c for _, _, c in CONTROLS)
    for control in ("ISO 22301 §8.5", "SOC 2 A1.2", "SOC 2 A1.3", "CC7.5", "A.5.30", "DORA art. 11", "DORA art. 12",
                    "DORA art. 24"):
        assert control in text
    summary = components(load_runs([reports]))
    assert [(c.component, c.readiness) for c in summary] == [("postgres", "NOT READY"), ("rabbitmq", "UNVERIFIED")]


def test_no_secret_reaches_either_report(rendered, reports):
    html, md, out = rendered
    svgs = "".join(p.read_text() for p in (out / TIMELINES).glob("*.svg"))
    for text in (html, md, svgs):
        assert SECRET not in text
        assert APP_SECRET not in text
        assert "hunter2" not in text  # in the history's error texts
    assert "postgres://app:[redacted]@pg1/app" in md
    # The journal itself still has them (it is evidence); the report does not.
    assert SECRET in "".join(p.read_text() for p in reports.glob("*/journal.json"))


def test_redact_rules():
    data = {"password": "x1", "nested": {"API_KEY": "k", "Token": 3, "keep_disks": True, "note": "secret=abc; ok"},
            "list": ["postgres://u:pw1234@h/db", "plain"], "DRILLS_MONGO_ROOT_PASSWORD": "m", "empty_token": "",
            "secrets": {"pg": "s1", "more": ["s2", {"x": 3}]}}
    assert redact(data, ["plain"]) == {
        "password": "[redacted]",
        "nested": {"API_KEY": "[redacted]", "Token": "[redacted]", "keep_disks": True, "note": "secret=[redacted]; ok"},
        "list": ["postgres://u:[redacted]@h/db", "[redacted]"], "DRILLS_MONGO_ROOT_PASSWORD": "[redacted]",
        "empty_token": "", "secrets": {"pg": "[redacted]", "more": ["[redacted]", {"x": "[redacted]"}]}}


def test_html_is_self_contained_and_escaped(tmp_path):
    reports = tmp_path / "reports"
    run = make_run(reports, do_seal=False)
    journal = json.loads((run / "journal.json").read_text())
    journal["scenario"]["title"] = '<script>alert("x")</script> <img src="https://evil.example/x.png">'
    (run / "journal.json").write_text(json.dumps(journal))
    html = render(load_runs([reports]), tmp_path / "out", ["html"])[0].read_text()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '<img src="https://evil' not in html
    # No fetch of anything: no external stylesheet, script or image; the plot is inline SVG.
    assert not re.search(r"<(link|script)\b", html)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert html.count("<svg") >= 2 and "<style>" in html
    assert "not sealed" in html and "NOT SEALED" in html  # an unsealed run is shown as such


def test_gaps_in_the_sequence_are_flagged(tmp_path):
    reports = tmp_path / "reports"
    runs = [make_run(reports) for _ in range(3)]
    shutil.rmtree(runs[1])
    html = render(load_runs([reports]), tmp_path / "out", ["html"])[0].read_text()
    assert "NOT INTACT (1 finding(s))" in html
    assert f"gap in the sequence: run {runs[1].name} is gone" in html


def test_trend_lists_each_scenario_over_the_last_runs(reports):
    points = trend(load_runs([reports]), last=2)
    assert list(points) == ["postgres-leader-kill", "rabbitmq-node-partition"]
    assert [p.seq for p in points["postgres-leader-kill"]] == [2, 4]
    rto = next(m for m in points["postgres-leader-kill"][0].metrics if m.kind == "RTO")
    assert rto.target == 20.0 and rto.measured is not None and rto.measured > 20 and rto.met is False


def test_markdown_links_its_timelines(rendered):
    _, md, out = rendered
    links = re.findall(r"!\[timeline of ([^\]]+)\]\(([^)]+)\)", md)
    assert len(links) == 3  # the NOT RUN scenario has no history
    for run_id, rel in links:
        svg = ET.parse(out / rel).getroot()
        assert svg.tag.endswith("svg") and rel.endswith(f"{run_id}.svg")


def test_drill_report_command(reports, tmp_path):
    result = CliRunner().invoke(cli.cli, ["report", str(reports), "--last", "2", "--out", str(tmp_path),
                                          "--format", "md"])
    assert result.exit_code == 0, result.output
    md = (tmp_path / f"{REPORT_NAME}.md").read_text()
    assert not (tmp_path / f"{REPORT_NAME}.html").exists()
    assert "from 2 run(s), sequence #3\u2013#4" in md
    empty = CliRunner().invoke(cli.cli, ["report", str(tmp_path / "nothing")])
    assert empty.exit_code != 0


def test_report_default_output_leaves_the_evidence_intact(tmp_path):
    reports = tmp_path / "reports"
    run = make_run(reports)
    result = CliRunner().invoke(cli.cli, ["report", str(run)])
    assert result.exit_code == 0, result.output
    assert (reports / f"{REPORT_NAME}.html").exists()
    assert CliRunner().invoke(cli.cli, ["verify", str(reports)]).exit_code == 0


# ---- Markdown is escaped for Markdown, not for HTML ------------------------------------------------

HTML_ENTITY = re.compile(r"&(#\d+|#x[0-9a-f]+|lt|gt|amp|quot|apos);", re.IGNORECASE)


def test_markdown_shows_text_as_written_not_html_entities(rendered):
    html, md, _ = rendered
    assert not HTML_ENTITY.findall(md), HTML_ENTITY.findall(md)[:5]
    assert "from the scenario file whose hash the run's manifest sealed" in md
    assert 'per scenario backup integrity result (or "not measured")' in md
    # The HTML is still escaped for HTML.
    assert "the run&#39;s manifest sealed" in html and "(or &#34;not measured&#34;)" in html


def test_markdown_neutralises_raw_html_and_keeps_cells_and_redaction(tmp_path, monkeypatch):
    monkeypatch.setenv("DRILLS_PG_SUPERUSER_PASSWORD", SECRET)
    reports = tmp_path / "reports"
    run = make_run(reports, do_seal=False, status="error", reason=f"pg1 said <b>no</b> | password={SECRET}")
    journal = json.loads((run / "journal.json").read_text())
    journal["scenario"]["title"] = '<script>alert("x")</script> <img src=x> writes <= 7 & it\'s fine'
    journal["scenario"]["expectations"][0]["why"] = "a | b <em>c</em>"
    journal["scenario"]["expectations"][0]["assumes"] = []  # the why alone in its cell
    (run / "journal.json").write_text(json.dumps(journal))
    md = render(load_runs([reports]), tmp_path / "out", ["md"])[0].read_text()
    assert not re.search(r"(?<!\\)<(script|img|b|em|/)", md)  # no raw HTML a renderer would run or show
    assert '## #unsealed \\<script>alert("x")\\</script> \\<img src=x> writes <= 7 & it\'s fine — ERROR' in md
    assert "a \\| b \\<em>c\\</em> |" in md  # the cell's pipe escaped, the table keeps its columns
    assert "pg1 said \\<b>no\\</b> \\| password=[redacted]" in md and SECRET not in md


def _restore_sections(tmp_path: Path) -> tuple[list[str], list[dict]]:
    reports = tmp_path / "reports"
    name = "postgres-global-failure-restore-snapshot"
    measured = make_run(reports, name=name, outage=(5.0, 17.4), backup_at=3.0)  # restored: RPO measured
    make_run(reports, name=name)  # no backup, no restore in the history: nothing to measure the RPO from
    make_not_run(reports, name=name)
    journal = json.loads((measured / "journal.json").read_text())
    html, md = (p.read_text() for p in render(load_runs([reports]), tmp_path / "out"))
    return [*md.split("\n## #")[1:4], html], journal["verdicts"]


def test_restore_drill_table_shows_rpo_target_and_measured_rpo(tmp_path):
    (restored, unmeasured, not_run, html), verdicts = _restore_sections(tmp_path)
    rpo = next(v for v in verdicts if v["checker"] == "rpo")
    restore = next(v for v in verdicts if v["checker"] == "backup-integrity")
    assert rpo["status"] == "pass" and restore["status"] == "pass"
    window, lost = shown(rpo["measured"]["rpo_s"]), shown(rpo["measured"]["lost"])
    # The RPO bound is the schedule's promise as measured in the run: the next slot (interval 5 s)
    # plus the longest backup (1 s); the writes, 50 writes/s over it.
    assert rpo["bound"]["max_rpo_s"] == 6.0 and rpo["bound"]["max_lost"] == 300
    assert f"| RPO | postgres.write | 6 s | {window} s | PASS |" in restored
    assert f"| RPO | postgres.write | 300 writes | {lost} writes | PASS |" in restored
    assert f"| RTO | postgres | 60 s | {shown(restore['measured']['rto_s'])} s | PASS |" in restored
    assert re.search(r"\| RTO \| postgres.write \| 60 s \| [\d.]+ s \| PASS \|", restored)
    assert f'<td>RPO</td><td>postgres.write</td><td class="num">6 s</td><td class="num">{window} s</td>' in html
    # Where nothing was measured the table says so (a bound measured in the run included); never a
    # blank or a PASS.
    for row in ("| RPO | postgres.write | not measured | not measured | NOT MEASURED |",
                "| RTO | postgres | 60 s | not measured | NOT MEASURED |"):
        assert row in unmeasured
    for row in ("| RPO | postgres.write | not measured | not measured | NOT RUN |",):
        assert row in not_run


def test_a_run_whose_clients_fell_behind_lists_its_pacing_among_the_issues(tmp_path):
    # Writes started every 1.6 periods: 31 ops/s of the 50 configured, in a healthy steady phase.
    behind = make_run(tmp_path / "reports", spacing=1.6)
    make_run(tmp_path / "reports")  # one that kept its pace lists none
    journal = json.loads((behind / "journal.json").read_text())
    paced = {p["signal"]: p for p in journal["pacing"]}
    assert paced["postgres.write"]["status"] == "not-held"
    _, md = (p.read_text() for p in render(load_runs([tmp_path / "reports"]), tmp_path / "out"))
    issues = md.split("## Issues found and remediation")[1].split("## Run sequence")[0]
    assert re.search(r"\| #1 \| postgres-leader-kill \| PACING postgres.write: started 31\.\d ops/s of 50 in steady "
                     r"\(.*\): the clients fell behind, outages measured by them are upper bounds", issues)
    assert "| #2 |" not in issues
    assert journal["verdicts"]  # judged as ever: pacing changes no verdict of `drill run`
