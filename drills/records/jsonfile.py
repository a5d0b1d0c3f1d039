"""A record file read back: its JSON object, or None when it is missing, unreadable or not an object.

The journal, the manifest and the signature file are all read this way: a damaged record is said
to be missing by whoever reads it, never taken for an empty one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_object(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
