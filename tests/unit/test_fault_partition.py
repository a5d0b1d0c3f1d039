"""A partition that would cut its target off from nothing but itself is refused at its line by
`drill validate`, before a drill fails on it ("nothing to cut it from")."""

from __future__ import annotations

from pathlib import Path

import pytest

from drills.faults.partition import problems
from drills.files.scenario import check_file

SCENARIO = """\
id: cut
title: Cut
policy: p
workload:
  postgres.write: {rate: 50}
steps:
  - fault: partition
    target: TARGET
FROM
expectations:
  - checker: lost-writes
    signal: postgres.write
    why: w
"""


@pytest.mark.parametrize(("target", "cut_from", "where"), [
    ("postgres.*", None, (8, 13, "steps[0].target")),
    ("postgres", "[postgres.*]", (9, 5, "steps[0].from")),
    ("postgres.leader", "[postgres.leader]", (9, 5, "steps[0].from")),
    ("clients", "[clients]", (9, 5, "steps[0].from")),
])
def test_a_partition_from_itself_is_refused_where_it_is_written(tmp_path: Path, target, cut_from, where):
    path = tmp_path / "cut.yaml"
    path.write_text(SCENARIO.replace("TARGET", target).replace("FROM", f"    from: {cut_from}" if cut_from else ""))
    scenario, found = check_file(path)
    assert scenario is None
    assert [(p.line, p.column, p.field) for p in found] == [where]
    assert "nothing to cut it from" in found[0].message


@pytest.mark.parametrize("step", [
    {"target": "postgres.leader"},  # from its peers, by default
    {"target": "postgres.*", "from": ["postgres.*", "etcd.*"]},  # from etcd: something is left
    {"target": "postgres.*", "from": ["clients"]},
    {"target": "postgres.replica[0]", "from": ["postgres"]},  # from the other nodes
    {"target": "same"},  # the previous step's node: known only when the step runs
])
def test_a_partition_from_anything_else_is_accepted(step):
    assert problems(step, None) == []  # type: ignore[arg-type]
