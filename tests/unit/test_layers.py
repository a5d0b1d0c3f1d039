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


def _contracts() -> list[dict]:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def _names(layer: str) -> set[str]:
    return {name.strip() for name in layer.replace(":", "|").split("|")}


def test_every_module_has_its_layer():
    """A module no layer names is held to nothing: each new top-level module or package must be
    placed, and each module of a package whose own layers are declared (`containers`) too."""
    import importlib
    import pkgutil

    import drills

    contracts = _contracts()
    [top] = [c for c in contracts if c["type"] == "layers" and "containers" not in c]
    layered = set().union(*map(_names, top["layers"]))
    unplaced = [f"drills.{m.name}" for m in pkgutil.iter_modules(drills.__path__) if f"drills.{m.name}" not in layered]
    for inner in (c for c in contracts if c["type"] == "layers" and "containers" in c):
        for container in inner["containers"]:
            placed = set().union(*map(_names, inner["layers"]))
            package = importlib.import_module(container)
            unplaced += [f"{container}.{m.name}" for m in pkgutil.iter_modules(package.__path__)
                         if m.name not in placed]
    assert not unplaced, f"place these in a layer of pyproject.toml's [tool.importlinter]: {unplaced}"


def test_the_top_level_holds_only_packages():
    """Folders show the layers: beside the packages, only the package's own entry points."""
    import pkgutil

    import drills

    loose = sorted(m.name for m in pkgutil.iter_modules(drills.__path__) if not m.ispkg)
    assert loose == ["__main__"], loose
