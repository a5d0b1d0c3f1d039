"""A pause the cgroup freezer gives up on under load is tried again; any other refusal is not."""

from __future__ import annotations

import pytest
from docker.errors import APIError

from drills.faults.process import FREEZE_ATTEMPTS, _pause_each


class Flaky:
    def __init__(self, failures: int, message: str) -> None:
        self.failures, self.message, self.calls = failures, message, 0

    def pause(self) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise APIError(f'500 Server Error: Internal Server Error ("{self.message}")')


FREEZE = "Cannot pause container x: OCI runtime pause failed: unable to freeze: unknown"


@pytest.mark.parametrize("failures", range(FREEZE_ATTEMPTS))
def test_a_freeze_that_gives_up_is_retried(failures):
    c = Flaky(failures, FREEZE)
    _pause_each([c], wait_s=0)()  # type: ignore[list-item]
    assert c.calls == failures + 1


def test_it_gives_up_after_the_last_attempt_and_on_any_other_error():
    always = Flaky(FREEZE_ATTEMPTS, FREEZE)
    with pytest.raises(APIError, match="unable to freeze"):
        _pause_each([always], wait_s=0)()  # type: ignore[list-item]
    assert always.calls == FREEZE_ATTEMPTS
    other = Flaky(1, "Container x is not running")
    with pytest.raises(APIError, match="not running"):
        _pause_each([other], wait_s=0)()  # type: ignore[list-item]
    assert other.calls == 1
