"""`drill run`, `drill explore` and the pytest plugin share one session (drills.run.session): each
imports it, none imports another, and none holds a second copy of what the session owns (the
clean-up of dead runs, the fitting to the stack, the baseline, the drill itself)."""

import ast
from pathlib import Path

import pytest

DRILLS = Path(__file__).resolve().parents[2] / "drills"
CALLERS = {
    "drills.cli.run": DRILLS / "cli" / "run.py",
    "drills.explore.runner": DRILLS / "explore" / "runner.py",
    "drills.cli.pytest_plugin": DRILLS / "cli" / "pytest_plugin.py",
}
COMMANDS = (DRILLS / "cli" / "explore.py",)
# What only the session may use to run drills: the callers reach each of them through it.
OWNED = ("drills.run.cleanup", "drills.run.stack_fit", "drills.stack.baseline", "drills.run.runner",
         "drills.provision.engine", "drills.stack.readiness", "drills.stack.presence", "drills.stack.project")


def _run_time(tree: ast.AST):
    """Every node but those under `if TYPE_CHECKING:` (names for annotations, never run)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            yield from (n for child in node.orelse for n in [child, *_run_time(child)])
            continue
        yield node
        yield from _run_time(node)


def imported(path: Path) -> set[str]:
    """Every module `path` imports when it runs, at the top or in a function; a name imported
    from a package counts as its submodule too (`from drills.stack import baseline`)."""
    names: set[str] = set()
    for node in _run_time(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


@pytest.mark.parametrize("module", sorted(CALLERS))
def test_each_way_of_running_drills_goes_through_the_session(module):
    assert "drills.run.session" in imported(CALLERS[module])


@pytest.mark.parametrize("path", [*CALLERS.values(), *COMMANDS], ids=lambda p: p.name)
def test_no_caller_holds_the_clean_up_fitting_baseline_or_drill_itself(path):
    used = imported(path)
    assert not {m for m in used for owned in OWNED if m == owned or m.startswith(owned + ".")}, (
        f"{path.name} must reach these through drills.run.session")


@pytest.mark.parametrize("module", sorted(CALLERS))
def test_the_callers_import_none_of_each_other_nor_any_command(module):
    used = imported(CALLERS[module])
    others = set(CALLERS) - {module}
    assert not used & others
    if module != "drills.explore.runner":  # the runner is what `drill explore` calls
        assert not any(m.startswith("drills.cli.") for m in used), sorted(used)


def test_the_hint_and_the_baseline_text_live_in_one_module_each():
    """A second copy of the fitting or the baseline would carry their wording with it."""
    sources = {p: p.read_text() for p in DRILLS.rglob("*.py")}
    assert [p.name for p, text in sources.items() if "lists its roles" in text] == ["session.py"]
    assert [p.name for p, text in sources.items() if "was not back at its baseline before" in text] == ["baseline.py"]
    assert {p.name for p, text in sources.items() if "from drills.run.cleanup import" in text} == {
        "session.py", "clean.py"}, "`drill clean` itself, and the session"
