"""What `drill clean` (and `drill run`'s start-up cleanup) may remove: only a project this state
directory's record says a `drill run` started, once that runner is dead; `--all` everything."""

from hypothesis import given
from hypothesis import strategies as st

from drills.core.local_state import Owner
from drills.run.cleanup import fate_of

owners = st.none() | st.builds(Owner, project=st.just("drills-x"), pid=st.integers(1, 2**22),
                                kind=st.sampled_from(["run", "stack", "something-newer"]), created=st.floats(0, 2e9))


@given(owners, st.booleans())
def test_nothing_is_removed_without_a_record_here_of_a_dead_run(owner, alive):
    fate = fate_of(owner, alive=alive, everything=False)
    assert (fate == "remove") == (owner is not None and owner.kind == "run" and not alive)


@given(st.booleans())
def test_a_project_without_a_record_here_is_unknown_and_kept(alive):
    # With a fresh XDG_STATE_HOME every Drills project on a shared engine is such a project.
    assert fate_of(None, alive=alive, everything=False) == "unknown"


@given(owners, st.booleans())
def test_all_removes_everything(owner, alive):
    assert fate_of(owner, alive=alive, everything=True) == "remove"
