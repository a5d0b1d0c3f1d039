"""The layers of docs/architecture.md, as pyproject.toml's import-linter contracts declare them.

`./dev.sh test` runs `lint-imports` too; the first test puts the same check into every `pytest`
run, so an import that climbs a layer fails the unit tests where it is written; the second makes
sure no module is left out of the layers.
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


def _layered_modules() -> set[str]:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    [layers] = [c for c in config["contracts"] if c["type"] == "layers"]
    return {name.strip() for layer in layers["layers"] for name in layer.replace(":", "|").split("|")}


def test_every_module_has_its_layer():
    # A module no layer names is held to nothing: each new one must be placed.
    import pkgutil

    import drills
    import drills.report

    layered = _layered_modules()
    unplaced = [f"{package.__name__}.{m.name}" for package in (drills, drills.report)
                for m in pkgutil.iter_modules(package.__path__)
                if f"{package.__name__}.{m.name}" not in layered and not (package is drills and m.name == "report")]
    assert not unplaced, f"place these in a layer of pyproject.toml's [tool.importlinter]: {unplaced}"
