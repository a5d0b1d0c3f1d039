"""The report as a PDF: the HTML report, laid out for A4 paper by WeasyPrint.

The PDF is the HTML (same template, same inline SVG timelines), printed: WeasyPrint applies the
template's `@media print` rules (page size, page numbers, page breaks), so a browser's "print to
PDF" and this file agree, and the screen look is untouched.

WeasyPrint is imported here only, when a PDF is asked for: it pulls in Pango through cffi at import
(~0.5 s), which `drill --help` and every other command must not pay. Its system libraries come from
`drill setup` (drills.provision.pdf_libs); when they are missing the import fails with an OSError,
turned here into what to run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from drills.core.errors import SetupError
from drills.provision.pdf_libs import PACKAGES


def _weasyprint() -> Any:
    try:
        import weasyprint
    except ImportError as exc:
        raise SetupError(f"the PDF report needs WeasyPrint, which is not installed ({exc})",
                         hint="pip install weasyprint (it is a dependency of drills: reinstall drills)") from exc
    except OSError as exc:  # cffi could not dlopen Pango or one of its libraries
        raise SetupError(f"the PDF report needs system libraries this machine lacks ({str(exc).splitlines()[0]})",
                         hint="run `drill setup` (as root on Debian/Ubuntu), or install "
                              f"{' '.join(PACKAGES)} with your OS package manager") from exc
    return weasyprint


def write_pdf(html: str, path: Path) -> Path:
    """Lay `html` out as a PDF at `path`; the report's HTML is self-contained, so no base URL."""
    weasyprint = _weasyprint()
    weasyprint.HTML(string=html).write_pdf(str(path))
    return path
