"""A tool run in a container that has stopped says which container and what it said last."""

from __future__ import annotations

from typing import Any

import docker.errors
import pytest

from drills.components import _dockerio as dockerio
from drills.core.errors import FaultError


class Exited:
    name = "drills-x-db-1-1"

    def exec_run(self, argv: list[str], **kw: Any) -> Any:
        raise docker.errors.APIError("500", explanation="Container abc is not running: Exited (1)")

    def logs(self, tail: int) -> bytes:
        return b"starting\nrefusing to start: /run/secrets/orders_dba_password is empty\n"


def test_exec_in_a_container_that_exited_names_it_and_its_last_words():
    with pytest.raises(FaultError) as caught:
        dockerio.run(Exited(), ["stat", "/x"], user="root")  # type: ignore[arg-type]
    said = str(caught.value)
    assert "stat in drills-x-db-1-1" in said and "not running: Exited (1)" in said
    assert "orders_dba_password is empty" in said
