"""Shared fixtures. Tests marked `docker` need a running engine: `./dev.sh test` provisions one.

They fail (not skip) when no engine answers, because here one can always be had: a skipped
integration suite would let CI pass without having run anything real.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings

# No per-example deadline: CI shares 2 cores with a running stack, and a slow example is not a
# wrong one. Speed goals live in bench/.
settings.register_profile("drills", deadline=None)
settings.load_profile("drills")

if TYPE_CHECKING:
    import docker


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    from drills.provision import engine

    client = engine.client()  # raises EngineUnavailable with the fix: run `drill setup`
    yield client
    client.close()
