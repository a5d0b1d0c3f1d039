"""The report shows, per run, the effective configuration drilled (as the journal recorded it), what
changed by the end of the run, and says so where a run recorded none; runs of one scenario drilled
on differently configured stacks still make one distribution."""

from __future__ import annotations

import dataclasses
import html
import json
from pathlib import Path

import pytest

from drills.core.effective_config import NOT_READ, EffectiveConfig, Part, compared, fingerprint
from drills.report.render import render
from drills.report.runs import load_runs
from tests.report_factory import make_not_run, make_run
from tests.unit.test_stack_effective import reference_config

EXPECTED = ("Stack: api-fortress-ha (/src/stacks/reference/stack.yaml); Compose files "
            "/src/docker-compose.ha.yml, /src/sync-off.yml",
            "synchronous_mode on", "ttl 10 s", "loop_wait 2 s", "retry_timeout 3 s", "synchronous_commit on",
            "RabbitMQ 3.10.8", "cluster_partition_handling pause_minority", "net_ticktime 10 s",
            "scheduled-runs quorum (3 members, leader rabbit1)", "dashboard1 UP, dashboard2 DOWN",
            "MongoDB: absent: image mongo:7 absent", "Instances: NOT READ: docker: connection refused")


def classic_at_the_end() -> EffectiveConfig:
    """The reference configuration with scheduled-runs come back as a classic queue."""
    doc = json.loads(json.dumps(reference_config().to_json()))
    doc["parts"]["rabbitmq"]["settings"]["queues"]["scheduled-runs"].update(type="classic", members=None)
    return EffectiveConfig.from_json(doc)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[str, str]:
    root = tmp_path_factory.mktemp("reports")
    config = reference_config()
    make_run(root, effective={"effective": config.to_json(), "effective_after": compared(config, config)})
    make_run(root, effective={"effective": config.to_json(),
                              "effective_after": compared(config, classic_at_the_end())})
    make_run(root, effective={})  # a journal that recorded no configuration
    make_not_run(root)
    out = tmp_path_factory.mktemp("out")
    html_path, md_path = render(load_runs([root]), out)
    return html_path.read_text(), md_path.read_text()


def run_sections(md: str) -> list[str]:
    return [s for s in md.split("\n## #")[1:]]


def test_markdown_shows_the_configuration_of_each_run(rendered):
    _, md = rendered
    first, second, bare, not_run = run_sections(md)
    for section in (first, second):
        assert "**Effective configuration drilled** (read back from the running stack before the first fault, " \
               "in 0.42 s):" in section
        for piece in EXPECTED:
            assert piece in section, (piece, section)
    assert "; stack api-fortress-ha (Compose files docker-compose.ha.yml, sync-off.yml);" in first
    assert "; stack not recorded;" in bare
    assert "- At the end of the run: no setting changed" in first
    assert ("- At the end of the run: **changed**: rabbitmq.queues.scheduled-runs.members: 3 -> None; "
            "rabbitmq.queues.scheduled-runs.type: 'quorum' -> 'classic'; not compared: Instances "
            "(docker: connection refused)") in second
    assert "**Effective configuration drilled:** not recorded: this run's journal holds none." in bare
    assert "**Effective configuration drilled:** not recorded: no stack was drilled." in not_run


def test_the_fingerprint_lists_each_configuration_drilled_with_its_runs(rendered):
    _, md = rendered
    env = md.split("## Environment fingerprint")[1]
    key = fingerprint(reference_config())[:12]
    assert f"- configuration drilled `{key}` (stack api-fortress-ha): runs #1, #2" in env, env
    assert "- configuration drilled: not recorded for runs #3, #4" in env, env


def test_html_shows_the_same_values(rendered):
    page, _ = rendered
    text = html.unescape(page)
    for piece in EXPECTED:
        label, _, value = piece.partition(": ")
        if label in ("Stack", "MongoDB", "Instances"):
            assert f"<th>{label}</th><td class=\"small {'alert' if 'NOT READ' in value else ''}\">{value}" in text
        else:
            assert piece in text, piece
    assert "rabbitmq.queues.scheduled-runs.type: 'quorum' -> 'classic'" in text
    assert "not recorded: no stack was drilled." in text


def test_a_part_not_read_is_shown_as_not_read_never_left_out(tmp_path):
    config = reference_config()
    parts = {**config.parts, "postgres": Part(NOT_READ, reason="no Patroni REST API answered: pg1: timed out")}
    make_run(tmp_path / "r", effective={"effective": dataclasses.replace(config, parts=parts).to_json()})
    md = render(load_runs([tmp_path / "r"]), tmp_path / "out", ["md"])[0].read_text()
    assert "- PostgreSQL: NOT READ: no Patroni REST API answered: pg1: timed out" in md
    assert "- At the end of the run: not read again" in md


def test_repeated_runs_on_differently_configured_stacks_still_group_by_scenario(tmp_path):
    root: Path = tmp_path / "reports"
    config = reference_config()
    make_run(root, effective={"effective": config.to_json()})
    make_run(root, effective={"effective": classic_at_the_end().to_json()})
    md = render(load_runs([root]), tmp_path / "out", ["md"])[0].read_text()
    section = md.split("## Repeated runs")[1].split("\n## ")[0]
    assert section.count("### postgres-leader-kill") == 1 and "over 2 runs" in section, section
