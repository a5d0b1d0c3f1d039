"""The JSON schemas of scenario, exploration and stack files (`drill schema`, `drill schema
--exploration`, `drill schema --stack`) stay byte-identical while the component vocabulary moves
into the components' registry (issue 21, B5, B1): the names a scenario may use, and the entries a
stack file's `components:` may hold, come from the registry now, and an editor completing them must
see the very same schema as before.

A change meant to alter the language regenerates the snapshots, and says why in its commit:
`python tests/unit/test_schema_snapshot.py`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "schemas"


def _scenario() -> dict[str, Any]:
    from drills.files.scenario import scenario_json_schema

    return scenario_json_schema()


def _exploration() -> dict[str, Any]:
    from drills.files.exploration import exploration_json_schema

    return exploration_json_schema()


def _stack() -> dict[str, Any]:
    from drills.files.stack_file import stack_json_schema

    return stack_json_schema()


SCHEMAS = {"scenario.json": _scenario, "exploration.json": _exploration, "stack.json": _stack}


def rendered(name: str) -> str:
    """The schema as `drill schema` prints it (with its final newline)."""
    return json.dumps(SCHEMAS[name](), indent=2) + "\n"


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_schema_is_byte_identical_to_its_snapshot(name: str):
    assert rendered(name) == (FIXTURES / name).read_text(encoding="utf-8")


def test_drill_schema_prints_the_snapshot():
    from click.testing import CliRunner

    from drills.cli.scenario import schema

    for args, name in (([], "scenario.json"), (["--exploration"], "exploration.json"), (["--stack"], "stack.json")):
        result = CliRunner().invoke(schema, args)
        assert result.exit_code == 0, result.output
        assert result.output == (FIXTURES / name).read_text(encoding="utf-8")


if __name__ == "__main__":
    for name in SCHEMAS:
        (FIXTURES / name).write_text(rendered(name), encoding="utf-8")
        print(f"wrote {FIXTURES / name}")
