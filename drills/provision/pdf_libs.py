"""The system libraries `drill report --format pdf` needs: WeasyPrint lays text out with Pango
(over HarfBuzz and FreeType) and needs at least one font, none of which pip can install.

`missing()` asks the dynamic loader's cache and the font directories, so `drill setup` skips the
apt step in a few milliseconds when everything is there. The PDF is optional: where Drills may not
install packages (not root, not Debian/Ubuntu), setup warns with the command to run and goes on.
"""

from __future__ import annotations

import ctypes.util
from pathlib import Path

from drills.core.errors import SetupError
from drills.provision.progress import Reporter

# Debian package -> the library name the loader knows it by (None: a font, found on disk instead).
PACKAGES: dict[str, str | None] = {
    "libpango-1.0-0": "pango-1.0",
    "libpangoft2-1.0-0": "pangoft2-1.0",
    "libharfbuzz0b": "harfbuzz",
    "fonts-dejavu-core": None,
}
FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".local/share/fonts")
FONT_SUFFIXES = (".ttf", ".otf", ".ttc")


def _has_font() -> bool:
    # Any font will do for a readable PDF; `any` stops at the first one found.
    return any(root.is_dir() and any(p.suffix.lower() in FONT_SUFFIXES for p in root.rglob("*"))
               for root in FONT_DIRS)


def missing() -> list[str]:
    """The Debian packages whose library (or font) this machine lacks, in install order."""
    out = []
    for package, library in PACKAGES.items():
        found = ctypes.util.find_library(library) is not None if library else _has_font()
        if not found:
            out.append(package)
    return out


def ensure(reporter: Reporter) -> None:
    """Install what is missing where that is ours to do; otherwise warn with the command."""
    from drills.provision.engine import apt_install

    absent = missing()
    if not absent:
        reporter.ok("PDF report libraries (Pango, HarfBuzz, a font) present")
        return
    try:
        apt_install(absent, reporter)
    except SetupError as exc:
        reporter.warn(f"`drill report --format pdf` will not work: {exc}")
        return
    reporter.ok(f"PDF report libraries installed ({' '.join(absent)})")
