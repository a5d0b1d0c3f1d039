"""The layers of docs/architecture.md, as pyproject.toml's import-linter contracts declare them.

`./dev.sh test` runs `lint-imports` too; this test puts the same check into every `pytest` run, so
an import that climbs a layer fails the unit tests where it is written.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_import_follows_the_declared_layers():
    lint = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout
