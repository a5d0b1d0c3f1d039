"""`drill setup` installs the PDF report's system libraries (Pango, HarfBuzz, a font) with the OS
packages, skips the step when they are there, and only warns where it may not install them.
The engine, images and apt itself are stood in for: no container starts, no package is installed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from drills.cli import main as cli
from drills.core.errors import SetupError
from drills.provision import base_image, checks, engine, pdf_libs, pulled_image
from drills.provision.checks import Check, CheckStatus


@pytest.fixture
def machine(monkeypatch) -> dict[str, Any]:
    """A machine whose engine, Compose and images are ready; records what apt was asked to install."""
    seen: dict[str, Any] = {"apt": [], "libraries": set(), "font": True, "apt_error": None}
    monkeypatch.setattr(engine, "ensure_engine", lambda reporter: None)
    monkeypatch.setattr(engine, "client", lambda timeout=30: object())
    monkeypatch.setattr(checks, "compose_check", lambda: Check("docker compose v2", CheckStatus.OK, "v2"))
    monkeypatch.setattr(base_image, "ensure", lambda client, reporter: "base")
    monkeypatch.setattr(pulled_image, "ensure", lambda *a, **k: None)

    def apt_install(packages: list[str], reporter: Any) -> None:
        if seen["apt_error"]:
            raise SetupError(seen["apt_error"], hint=f"apt-get install -y {' '.join(packages)}")
        seen["apt"].append(list(packages))

    monkeypatch.setattr(engine, "apt_install", apt_install)
    monkeypatch.setattr(pdf_libs.ctypes.util, "find_library",
                        lambda name: f"lib{name}.so" if name in seen["libraries"] else None)
    monkeypatch.setattr(pdf_libs, "_has_font", lambda: seen["font"])
    return seen


def _setup() -> Any:
    result = CliRunner().invoke(cli.cli, ["setup", "--no-images"])
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def test_a_fresh_machine_gets_the_libraries_from_apt(machine):
    machine["font"] = False
    _setup()
    assert machine["apt"] == [["libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz0b", "fonts-dejavu-core"]]


def test_only_what_is_missing_is_installed(machine):
    machine["libraries"] = {"pango-1.0", "harfbuzz"}
    _setup()
    assert machine["apt"] == [["libpangoft2-1.0-0"]]


def test_nothing_is_installed_when_everything_is_there(machine):
    machine["libraries"] = {"pango-1.0", "pangoft2-1.0", "harfbuzz"}
    result = _setup()
    assert machine["apt"] == []
    assert "PDF report libraries (Pango, HarfBuzz, a font) present" in result.output


def test_where_drills_may_not_install_setup_warns_and_goes_on(machine):
    machine["apt_error"] = "missing packages: libpango-1.0-0"
    result = _setup()
    assert "`drill report --format pdf` will not work" in result.output
    assert "apt-get install -y libpango-1.0-0" in result.output


def test_the_real_lookup_finds_this_machines_libraries():
    # The unit tests render PDFs here, so this machine has them: the lookup must agree.
    assert pdf_libs.missing() == []


def test_doctor_warns_without_them_and_does_not_block(machine, monkeypatch):
    monkeypatch.setattr(engine, "info", lambda: None)  # no engine: doctor lists the host's checks alone

    def pdf_entry() -> dict[str, Any]:
        result = CliRunner().invoke(cli.cli, ["doctor", "--json"])
        doc = json.loads(result.stdout)
        return next(c for c in doc["checks"] if c["name"] == "PDF report libraries")

    machine["libraries"] = {"pango-1.0", "pangoft2-1.0"}
    entry = pdf_entry()
    assert entry["status"] == CheckStatus.WARN.value and entry["fix"] == "drill setup"
    assert "libharfbuzz0b" in entry["detail"]
    machine["libraries"] = {"pango-1.0", "pangoft2-1.0", "harfbuzz"}
    assert pdf_entry()["status"] == CheckStatus.OK.value
