"""The stack file's `backend: swarm` and `swarm:` section: every mistake at file:line:col."""

from __future__ import annotations

from pathlib import Path

import pytest

from drills.files.stack_file import check_stack_file

HEAD = "stack: mine\ncompose:\n  files: [compose.yaml]\n"


def problems(tmp_path: Path, text: str, services: str = "{pg1: {image: x}, pg2: {image: x}}") -> list[str]:
    (tmp_path / "compose.yaml").write_text(f"services: {services}\n")
    (tmp_path / "stack.yaml").write_text(HEAD + text)
    definition, found = check_stack_file(tmp_path / "stack.yaml")
    assert (definition is None) == bool(found)
    return [f"{p.line}:{p.column} {p.field}: {p.message}" for p in found]


def test_a_swarm_stack_with_placement_on_the_test_cluster_is_valid(tmp_path: Path) -> None:
    assert problems(tmp_path, "backend: swarm\nswarm:\n  placement: {pg1: node-1, pg2: node-2}\n") == []
    (tmp_path / "stack.yaml").write_text(HEAD + "backend: swarm\nswarm:\n  spread: [pg]\n")
    definition, _ = check_stack_file(tmp_path / "stack.yaml")
    assert definition is not None and definition.spec.swarm is not None
    assert definition.spec.backend == "swarm" and definition.spec.swarm.node_names(3) == ("node-1", "node-2", "node-3")


def test_the_compose_backend_stays_the_default(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services: {}\n")
    (tmp_path / "stack.yaml").write_text(HEAD)
    definition, found = check_stack_file(tmp_path / "stack.yaml")
    assert found == [] and definition is not None and definition.spec.backend == "compose"
    assert definition.spec.swarm is None


def test_backend_swarm_without_its_section_is_pointed_at(tmp_path: Path) -> None:
    assert problems(tmp_path, "backend: swarm\n") == [
        "4:10 backend: backend: swarm needs a swarm: section saying which node runs which service "
        "(swarm: {placement: {pg1: node-1, ...}})"]


def test_a_swarm_section_without_the_backend_is_pointed_at(tmp_path: Path) -> None:
    found = problems(tmp_path, "swarm: {placement: {pg1: node-1}}\n")
    assert found == ["4:1 swarm: swarm: applies to backend: swarm only; add `backend: swarm` or remove it"]


def test_an_unknown_backend_is_located(tmp_path: Path) -> None:
    [found] = problems(tmp_path, "backend: kubernetes\nswarm: {}\n")
    assert found.startswith("4:10 backend:") and "compose" in found and "swarm" in found


@pytest.mark.parametrize(("swarm", "expected"), [
    ("  placement:\n    pg1: node-10\n",
     "7:10 swarm.placement.pg1: node-10 is no node of the test cluster: write node-1 ... node-9 "
     "(or list your nodes under nodes:)"),
    ("  nodes: {a: unix:///run/a.sock}\n  placement:\n    pg1: b\n",
     "8:10 swarm.placement.pg1: node b is not one of nodes: (a)"),
    ("  placement: {pg1: node-1}\n  spread: [etcd, pg1]\n",
     "7:18 swarm.spread[1]: pg1 is placed under placement: already; name it in one of the two"),
    ("  spread: [etcd, etcd]\n", "6:18 swarm.spread[1]: etcd is spread twice"),
    ("  nodes: {}\n", "6:3 swarm.nodes: name at least one node (or leave nodes: out for the test cluster)"),
    ("  placement: {pg3: node-1}\n",
     "6:20 swarm.placement.pg3: the stack's Compose files define no service pg3 (services: pg1, pg2)"),
    ("  placment: {}\n", "6:3 swarm.placment: unknown field 'placment'; did you mean 'placement'?"),
])
def test_mistakes_in_the_swarm_section_are_located(tmp_path: Path, swarm: str, expected: str) -> None:
    assert problems(tmp_path, "backend: swarm\nswarm:\n" + swarm) == [expected]


def test_a_node_endpoint_must_be_one_docker_takes(tmp_path: Path) -> None:
    [found] = problems(tmp_path, "backend: swarm\nswarm:\n  nodes: {a: http://x}\n")
    assert found.startswith("6:14 swarm.nodes.a: a Docker endpoint is unix:///path/to/docker.sock")
    assert problems(tmp_path, "backend: swarm\nswarm:\n  nodes: {a: 'tcp://10.0.0.2:2376', b: 'ssh://me@h'}\n"
                              "  placement: {pg1: b}\n") == []
