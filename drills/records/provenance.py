"""Provenance of a run, sealed in its manifest: what made it, where, under which CI run, signed by whom.

    provenance(journal, signed_by) -> dict

Read from the run's journal where it already says it (`environment`: harness version, git commit,
images), so the manifest and the journal cannot disagree; what is not known is "unknown", never
guessed. Standard library only: the runner seals every drill.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from typing import Any

from drills import __version__

UNKNOWN = "unknown"


def ci_run(environ: dict[str, str] | None = None) -> dict[str, Any] | None:
    """The CI run that sealed it (GitHub Actions: a link to the run), or None outside CI."""
    env = os.environ if environ is None else environ
    if env.get("GITHUB_RUN_ID"):
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        repo = env.get("GITHUB_REPOSITORY", "")
        return {"provider": "github-actions", "run_id": env["GITHUB_RUN_ID"],
                "attempt": env.get("GITHUB_RUN_ATTEMPT"), "workflow": env.get("GITHUB_WORKFLOW"),
                "repository": repo or None, "commit": env.get("GITHUB_SHA"),
                "url": f"{server}/{repo}/actions/runs/{env['GITHUB_RUN_ID']}" if repo else None}
    if env.get("CI"):
        return {"provider": UNKNOWN}
    return None


def provenance(journal: Mapping[str, Any], signed_by: dict[str, Any] | None = None) -> dict[str, Any]:
    """From the run's journal (as the sealer read it; {} when it has none)."""
    env = journal.get("environment")
    env = env if isinstance(env, dict) else {}
    images = env.get("images")
    return {
        "drills": {"version": str(env.get("harness_version") or __version__),
                   "commit": str(env.get("git_commit") or UNKNOWN)},
        "host": socket.gethostname(),
        "ci": ci_run(),
        # Image references as the stack file names them (tags), and what each service's container ran
        # by content (image ID, registry digests): a tag can be rebuilt, an ID cannot.
        "images": dict(images) if isinstance(images, dict) else {},
        "image_digests": env.get("image_digests") or {},
        "signed_by": signed_by,
    }
