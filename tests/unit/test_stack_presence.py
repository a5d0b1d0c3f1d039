from hypothesis import given
from hypothesis import strategies as st

from drills.stack.presence import Presence

SERVICES = tuple(f"svc{i}" for i in range(19))


@given(st.sets(st.sampled_from(SERVICES), min_size=1))
def test_a_missing_service_is_named_with_the_way_back(missing):
    found = Presence("drills-p", SERVICES, tuple(sorted(missing)))
    text = str(found.problem())
    assert not found.complete
    assert all(name in text for name in missing)
    assert "drill stack up --project drills-p" in text and "drill stack down --project drills-p" in text
    assert "healthy" not in text
    if len(missing) == len(SERVICES):
        assert "none of its 19 services has a container" in text
    else:
        assert f"{len(missing)} of its 19 services have no container" in text


def test_nothing_missing_is_complete():
    assert Presence("drills-p", SERVICES, ()).complete
