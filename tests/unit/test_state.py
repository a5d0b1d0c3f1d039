import pytest

from drills.core import local_state


@pytest.fixture(autouse=True)
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))


def files_of(project: str) -> list[bool]:
    return [p.exists() for p in (local_state.owner_file(project), local_state.ledger_file(project),
                                 local_state.stacks_dir() / f"{project}.json")]


def test_forget_drops_every_record_of_a_project_and_nothing_of_another():
    for project in ("drills-a", "drills-b"):
        local_state.register_owner(project, "stack")
        local_state.ledger_file(project).write_text("{}\n")
        (local_state.stacks_dir() / f"{project}.json").write_text("{}")
    assert files_of("drills-a") == [True, True, True]
    local_state.forget("drills-a")
    assert files_of("drills-a") == [False, False, False]
    assert files_of("drills-b") == [True, True, True]
    assert [o.project for o in local_state.owners()] == ["drills-b"]


def test_the_settings_directory_is_its_owners_alone():
    # The saved settings hold the stack's generated secrets.
    assert local_state.stacks_dir().stat().st_mode & 0o777 == 0o700
