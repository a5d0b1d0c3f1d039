"""Shared fixtures. Tests marked `docker` need a running engine: `./dev.sh test` provisions one.

They fail (not skip) when no engine answers, because here one can always be had: a skipped
integration suite would let CI pass without having run anything real.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import docker


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    from drills.provision import engine

    client = engine.client()  # raises EngineUnavailable with the fix: run `drill setup`
    yield client
    client.close()
