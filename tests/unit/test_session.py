"""The session's decisions, without Docker: what runs, what is left out or NOT RUN and why, the
one hint for a file naming what the stack lacks, the stack started and taken down only when it is
its own and something runs, a stack not at its baseline brought back before the drill (which says so), the aborted
drill recorded, and a signal held while a drill healed raised only once its result is recorded."""

import json
import signal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drills.components._mongo_image import MONGO_IMAGE
from drills.core import interrupts
from drills.core.errors import ScenarioError, StackError
from drills.files.scenario import load_scenario
from drills.records.result import RunResult
from drills.run import session
from drills.run.session import LACKS_HINT, Fitted, Session, fit_scenario, fit_space, image_missing, lacking
from drills.stack.definition import RoleMap
from drills.stack.removal import Removal
from tests.unit.test_run_on_project_stack import SCENARIOS, defined_services, reference_stack

LEADER_KILL = next(p for p in SCENARIOS if p.stem == "postgres-leader-kill")
PARTITION = next(p for p in SCENARIOS if p.stem == "rabbitmq-node-partition")
MONGO_KILL = next(p for p in SCENARIOS if p.stem == "mongo-primary-kill")


def test_one_hint_names_the_command_that_was_asked():
    """`drill run` and `drill explore` said the same hint with their own verb: one text now."""
    assert lacking(["a", "b"], verb="drill").hint == (
        "name what the stack has (`drill stack status` lists its roles), or drill a stack that has it (--stack)")
    error = lacking(["s.yaml: steps[0].target x: no"], verb="explore")
    assert str(error).startswith("s.yaml: steps[0].target x: no")
    assert error.hint == LACKS_HINT.format(verb="explore")
    assert error.hint.endswith("or explore a stack that has it (--stack)")


def test_an_absent_image_is_why_not_with_what_to_do():
    mongo = load_scenario(MONGO_KILL)
    why = image_missing(mongo, lambda image: False)
    assert why.startswith("image ") and why.endswith(" absent on this machine (`drill doctor` says how to get it)")
    assert image_missing(mongo, lambda image: True) == ""
    assert image_missing(load_scenario(LEADER_KILL), lambda image: False) == "", "it requires no image"


def test_a_scenario_fitted_to_a_stack_without_its_bystander_runs_without_it_and_keeps_its_file():
    stack = reference_stack(roles=RoleMap.build({"postgres": ["db-a", "db-b", "db-c"], "etcd": ["etcd1"]}, {}))
    filed = load_scenario(LEADER_KILL)
    fitted = fit_scenario(filed, LEADER_KILL, stack, ("db-a", "db-b", "db-c", "etcd1"))
    assert fitted.why_not == "" and fitted.problems == ()
    assert "rabbitmq.publish" not in fitted.scenario.workload and fitted.filed is filed
    assert fitted.left_out and all("rabbitmq.publish NOT RUN" in line for line in fitted.left_out)


def test_a_scenario_acting_on_a_role_the_stack_lacks_is_not_run_with_why():
    stack = reference_stack(roles=RoleMap.build({"postgres": ["db-a", "db-b", "db-c"], "etcd": ["etcd1"]}, {}))
    fitted = fit_scenario(load_scenario(PARTITION), PARTITION, stack, ("db-a", "db-b", "db-c", "etcd1"))
    assert "no rabbitmq role" in fitted.why_not and fitted.left_out == ()


def test_a_queue_the_stack_does_not_declare_is_a_problem_of_the_file():
    scenario = load_scenario(PARTITION)
    wrong = scenario.model_copy(update={"steps": tuple(s.model_copy(update={"target": "rabbitmq.leader@nope"})
                                                       for s in scenario.steps)})
    fitted = fit_scenario(wrong, PARTITION, reference_stack(left_out={}), defined_services((MONGO_IMAGE.profile,)))
    [problem] = fitted.problems
    assert "steps[0].target rabbitmq.leader@nope" in problem and "declares no queue 'nope'" in problem


def test_a_fault_space_naming_what_the_stack_lacks_is_refused_with_the_explore_hint():
    scenario = load_scenario(PARTITION)
    probe = scenario.model_copy(update={"steps": tuple(s.model_copy(update={"target": "rabbitmq.leader@nope"})
                                                       for s in scenario.steps)})
    with pytest.raises(ScenarioError) as err:
        fit_space(probe, "space", reference_stack(left_out={}), defined_services((MONGO_IMAGE.profile,)))
    assert "space: fault_space target rabbitmq.leader@nope" in str(err.value)
    assert err.value.hint == LACKS_HINT.format(verb="explore")


class Stack:
    """A stack in memory: what the session asks of it to fit, start and remove it."""

    def __init__(self, base=None, *, left=(), services=None):
        self.base = base or reference_stack(left_out={})
        self.services = services or defined_services((MONGO_IMAGE.profile,))
        self.project = self.base.project
        self.settings, self.definition, self.owner_kind = self.base.settings, self.base.definition, "run"
        self.calls: list[str] = []
        self.left = list(left)

    def defined_services(self):
        return self.services

    def up(self, **_):
        self.calls.append("up")

    def down(self):
        self.calls.append("down")
        return Removal(removed=[], left=self.left)


def opened(monkeypatch, stack, *, project=None, images=True, said=None, warned=None, tell_down=False):
    """A session as `with Session(...)` leaves it (client made, dead runs cleaned), on `stack`."""
    monkeypatch.setattr("drills.run.session.image_here", lambda client, image: images)
    s = Session(reports_dir=Path("/nonexistent"), project=project, say=(said if said is not None else []).append,
                warn=(warned if warned is not None else []).append, tell_down=tell_down)
    s._client = object()  # type: ignore[assignment]

    def open_it(*, build=True):
        s.stack = s._opened = stack
        s.built = build
        return stack

    monkeypatch.setattr(s, "open", open_it)
    return s


def test_scenarios_whose_images_are_absent_are_not_run_and_no_stack_is_made(monkeypatch):
    s = opened(monkeypatch, Stack(), images=False)
    monkeypatch.setattr(s, "open", lambda: pytest.fail("no stack for scenarios that cannot run"))
    [fitted] = s.fit([(MONGO_KILL, load_scenario(MONGO_KILL))])
    assert "absent on this machine" in fitted.why_not
    s.up()
    assert s.stack is None and s.stack_up_s is None


def test_a_stack_on_which_nothing_can_run_is_never_started(monkeypatch):
    stack = Stack(reference_stack(roles=RoleMap.build({"postgres": ["pg1", "pg2", "pg3"]}, {})))
    s = opened(monkeypatch, stack)
    [fitted] = s.fit([(PARTITION, load_scenario(PARTITION))])
    assert "no rabbitmq role" in fitted.why_not
    s.up()
    s.__exit__(None, None, None)
    assert stack.calls == [] and s.stack is None


def test_a_file_naming_what_the_stack_lacks_stops_the_run_before_anything_starts(monkeypatch):
    scenario = load_scenario(PARTITION)
    wrong = scenario.model_copy(update={"steps": tuple(s.model_copy(update={"target": "rabbitmq.leader@nope"})
                                                       for s in scenario.steps)})
    stack = Stack()
    s = opened(monkeypatch, stack)
    with pytest.raises(ScenarioError) as err:
        s.fit([(LEADER_KILL, load_scenario(LEADER_KILL)), (PARTITION, wrong)])
    assert "declares no queue 'nope'" in str(err.value) and err.value.hint == LACKS_HINT.format(verb="drill")
    s.__exit__(ScenarioError, err.value, None)
    assert stack.calls == [], "never started, so nothing to take down"


def test_its_own_stack_is_started_timed_and_taken_down_with_what_could_not_be_removed_said(monkeypatch):
    said, warned = [], []
    stack = Stack(left=["network drills-x_default: in use (docker network rm drills-x_default)"])
    s = opened(monkeypatch, stack, said=said, warned=warned, tell_down=True)
    fitted = s.fit([(LEADER_KILL, load_scenario(LEADER_KILL))])
    assert [f.why_not for f in fitted] == [""]
    s.up()
    assert said == [f"starting stack {stack.project}"] and s.stack_up_s is not None
    s.__exit__(None, None, None)
    assert stack.calls == ["up", "down"]
    assert said[-1] == f"taking stack {stack.project} down"
    assert warned == ["warning: network drills-x_default: in use (docker network rm drills-x_default)"]


def test_an_attached_stack_is_neither_started_nor_taken_down(monkeypatch):
    stack = Stack()
    s = opened(monkeypatch, stack, project=stack.project)
    s._found = None
    s.fit([(LEADER_KILL, load_scenario(LEADER_KILL))])
    s.up()
    s.__exit__(KeyboardInterrupt, KeyboardInterrupt(), None)
    assert stack.calls == [] and s.stack_up_s is None


def test_a_not_run_scenario_is_recorded_and_said_without_touching_the_stack(tmp_path):
    said, recorded = [], []
    s = Session(reports_dir=tmp_path, say=said.append)
    scenario = load_scenario(MONGO_KILL)
    result = s.run(Fitted(MONGO_KILL, scenario, scenario, why_not="image mongo:7 absent"), record=recorded.append)
    assert recorded == [result] and result.status == "not-run" and result.reason == "image mongo:7 absent"
    assert said == ["NOT RUN mongo-primary-kill: image mongo:7 absent"]
    assert json.loads((tmp_path / result.run_id / "journal.json").read_text())["status"] == "not-run"


def baseline_stack(monkeypatch, *, ready: bool, comes_back: bool = True) -> list[bool]:
    """The stack's wait and bring-back as the session calls them; returns the `own` of each bring-back."""
    from drills.core.wait import Observation, WaitTimeout

    def wait(stack, timeout_s):
        if not ready:
            raise WaitTimeout("containers healthy", timeout_s, Observation(False, "waiting for worker1 exited"))

    brought: list[bool] = []

    def back(stack, *, own):
        brought.append(own)
        if not comes_back:
            raise StackError("docker compose up failed: no space left on device", hint="free space")

    monkeypatch.setattr("drills.stack.readiness.wait_ready", wait)
    monkeypatch.setattr(session, "bring_back", back)
    return brought


@pytest.mark.parametrize("project", [None, "drills-user"])
def test_a_stack_not_at_its_baseline_is_brought_back_and_the_drill_says_so(monkeypatch, tmp_path, project):
    brought = baseline_stack(monkeypatch, ready=False)
    made = []

    class Drill(FakeDrill):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(session, "Drill", Drill)
    said, recorded = [], []
    s = Session(reports_dir=tmp_path, project=project, say=said.append)
    s.stack = Stack()  # type: ignore[assignment]
    filed = load_scenario(LEADER_KILL)
    result = s.run(Fitted(LEADER_KILL, filed, filed), record=recorded.append)
    assert recorded == [result] and result.status == "passed", "drilled from the baseline brought back"
    assert brought == [project is None], "a --project stack (the user's) is brought back keeping its volumes"
    [line] = said
    assert line.startswith("postgres-leader-kill: the stack was not back at its baseline before this scenario")
    assert "waiting for worker1 exited" in line and "brought back, then drilled" in line
    [drill] = made
    assert drill.brought_back == line.split(": ", 1)[1], "the drill's record keeps why"


def test_a_stack_that_cannot_be_brought_back_stops_the_session_before_any_drill(monkeypatch, tmp_path):
    baseline_stack(monkeypatch, ready=False, comes_back=False)
    monkeypatch.setattr(session, "Drill", lambda *a, **k: pytest.fail("no drill on a stack not at its baseline"))
    recorded = []
    s = Session(reports_dir=tmp_path, say=lambda text: None)
    s.stack = Stack()  # type: ignore[assignment]
    filed = load_scenario(LEADER_KILL)
    with pytest.raises(StackError, match="no space left on device"):
        s.run(Fitted(LEADER_KILL, filed, filed), record=recorded.append)
    assert recorded == []


class FakeDrill:
    """A drill that returns `outcome`, or raises it; `during` runs while it 'heals'."""

    outcome: object = None
    during = staticmethod(lambda: None)

    def __init__(self, scenario, path, stack, *, reports_dir, workload_factory, progress, left_out, lacks=(),
                 brought_back="", signer=None):
        self.scenario, self.left_out, self.progress, self.lacks = scenario, tuple(left_out), progress, tuple(lacks)
        self.brought_back, self.signer = brought_back, signer
        self.run_id, self.out, self.history = f"run-{scenario.id}", reports_dir / f"run-{scenario.id}", object()

    def now(self) -> float:
        return 4.5

    def run(self):
        type(self).during()
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return RunResult(self.run_id, self.scenario.id, "passed", [], self.out)


class Shown:
    def __init__(self) -> None:
        self.watched = self.closed = False

    def phase(self, name: str, detail: str = "") -> None:
        pass

    def watch(self, history) -> None:
        self.watched = True

    def close(self) -> None:
        self.closed = True


def drill_session(monkeypatch, tmp_path, drill, signer=None):
    baseline_stack(monkeypatch, ready=True)
    monkeypatch.setattr(session, "Drill", drill)
    s = Session(reports_dir=tmp_path, say=lambda text: None, signer=signer)
    s.stack = Stack()  # type: ignore[assignment]
    return s


def test_a_drill_runs_the_fitted_scenario_with_what_was_left_out_and_is_recorded(monkeypatch, tmp_path):
    made = []

    class Drill(FakeDrill):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    s = drill_session(monkeypatch, tmp_path, Drill)
    filed = load_scenario(LEADER_KILL)
    fitted = filed.model_copy(update={"expectations": filed.expectations[:1]})
    recorded, shown = [], Shown()
    result = s.run(Fitted(LEADER_KILL, fitted, filed, ("x NOT RUN",)), record=recorded.append, progress=lambda: shown)
    assert recorded == [result] and result.status == "passed"
    [drill] = made
    assert drill.scenario is fitted and drill.left_out == ("x NOT RUN",) and drill.progress is shown
    assert shown.watched and shown.closed


@pytest.mark.parametrize("stop", [KeyboardInterrupt(), SystemExit(143)])
def test_a_drill_stopped_by_a_signal_is_recorded_as_aborted_and_the_stop_goes_on(monkeypatch, tmp_path, stop):
    class Stopped(FakeDrill):
        outcome = stop

    s = drill_session(monkeypatch, tmp_path, Stopped)
    filed = load_scenario(LEADER_KILL)
    recorded, shown = [], Shown()
    with pytest.raises(type(stop)):
        s.run(Fitted(LEADER_KILL, filed, filed), record=recorded.append, progress=lambda: shown)
    [aborted] = recorded
    assert aborted.status == "aborted" and aborted.run_id == "run-postgres-leader-kill" and aborted.wall_s == 4.5
    assert aborted.reason == interrupts.describe(stop) and shown.closed


def test_a_signal_held_while_the_drill_healed_is_raised_once_its_result_is_recorded(monkeypatch, tmp_path):
    with interrupts.trapped() as trap:
        if trap is None:
            pytest.skip("signals cannot be trapped here")

        class Healing(FakeDrill):
            # As if SIGTERM came while a shield held it (the drill's heal): pending, not raised.
            during = staticmethod(lambda: setattr(trap, "first", signal.SIGTERM))

        s = drill_session(monkeypatch, tmp_path, Healing)
        filed = load_scenario(LEADER_KILL)
        recorded = []
        with pytest.raises(interrupts.Interrupted) as stopped:
            s.run(Fitted(LEADER_KILL, filed, filed), record=recorded.append, progress=Shown)
        assert stopped.value.exit_code == 143
        assert [r.status for r in recorded] == ["passed"], "recorded before the signal is raised"


def test_run_all_names_each_drill_by_its_label(monkeypatch, tmp_path):
    labels = []
    monkeypatch.setattr(Session, "run", lambda self, fitted, *, record, label=None: labels.append(label))
    s = Session(reports_dir=tmp_path)
    filed = load_scenario(LEADER_KILL)
    s.run_all([Fitted(LEADER_KILL, filed, filed)] * 2, record=print, label="[2/3] {}".format)
    s.run_all([Fitted(LEADER_KILL, filed, filed)], record=print)
    assert labels == ["[2/3] postgres-leader-kill"] * 2 + [None]


def test_by_default_the_parts_left_out_are_said_before_the_drill_shows_its_phases(monkeypatch, tmp_path):
    said = []
    s = drill_session(monkeypatch, tmp_path, FakeDrill)
    s.say = said.append
    filed = load_scenario(LEADER_KILL)
    left_out = ("availability: rabbitmq.publish NOT RUN (stack x has no rabbitmq role)",)
    result = s.run(Fitted(LEADER_KILL, filed, filed, left_out), record=lambda r: None, label="[1/2] leader")
    assert result.status == "passed"
    assert said == [f"postgres-leader-kill: {left_out[0]}"]


COMPONENTS = ("postgres", "etcd", "rabbitmq", "mongo")


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(SCENARIOS), st.sets(st.sampled_from(COMPONENTS)))
def test_what_runs_on_a_stack_needs_only_what_it_has_and_nothing_is_dropped_unsaid(path, gone):
    """Whatever components a stack lacks: a scenario runs only when every role its faults and
    signals need is there and some expectation is left to judge; each expectation dropped is said."""
    from drills.core.roles import parse_role
    from drills.workload.registry import KINDS

    stack = reference_stack(left_out={})
    roles = stack.settings.roles
    every = defined_services((MONGO_IMAGE.profile,))
    defined = tuple(s for s in every if not any(s in roles.members(g, every) for g in gone))
    has = lambda role: bool(roles.members(parse_role(role).group, defined))  # noqa: E731
    filed = load_scenario(path)
    fitted = fit_scenario(filed, path, stack, defined)
    if fitted.why_not:
        assert fitted.why_not.strip()
        return
    assert fitted.filed is filed and fitted.scenario.expectations
    assert set(fitted.scenario.expectations) <= set(filed.expectations)
    assert all(has(step.target) for step in filed.steps if step.target not in ("same", "clients"))
    assert all(has(role) for name in fitted.scenario.workload for role in KINDS[name].needs())
    dropped = len(filed.expectations) - len(fitted.scenario.expectations)
    assert len(fitted.left_out) == dropped or (not dropped and set(fitted.scenario.workload) < set(filed.workload))
    assert (fitted.left_out == ()) == (fitted.scenario == filed)


# ---- what the stack lacks, said and recorded -----------------------------------------------------


def test_on_a_stack_without_mongodb_its_drills_name_the_role_and_no_image_is_built_to_say_so(monkeypatch):
    """Every scenario lacks the MongoDB image, and the stack file names no MongoDB role: the stack is
    opened, its images not built, to read its roles (labels), and the reason is the role it lacks."""
    from tests.unit.test_run_on_project_stack import POSTGRES_ONLY_SERVICES, postgres_only_stack

    stack = Stack(postgres_only_stack(), services=POSTGRES_ONLY_SERVICES)
    s = opened(monkeypatch, stack, images=False)
    s.definition = stack.definition
    [fitted] = s.fit([(MONGO_KILL, load_scenario(MONGO_KILL))])
    assert fitted.why_not == f"stack postgres-only ({stack.project}) has no mongo role (it declares etcd, postgres)"
    assert fitted.lacks == ("mongo",) and s.built is False
    s.up()
    s.__exit__(None, None, None)
    assert stack.calls == [] and s.stack is None, "nothing runs on it: never started"


def test_on_the_reference_stack_without_the_image_the_image_is_named_and_nothing_is_lacking(monkeypatch):
    s = opened(monkeypatch, Stack(), images=False)
    [mongo, leader] = s.fit([(MONGO_KILL, load_scenario(MONGO_KILL)), (LEADER_KILL, load_scenario(LEADER_KILL))])
    assert mongo.why_not == "image mongo:7 absent on this machine (`drill doctor` says how to get it)"
    assert mongo.lacks == () and leader.why_not == "" and s.built is True


def test_a_not_run_journal_names_the_stack_and_what_it_lacks(tmp_path, monkeypatch):
    from tests.unit.test_run_on_project_stack import POSTGRES_ONLY_SERVICES, postgres_only_stack

    stack = Stack(postgres_only_stack(), services=POSTGRES_ONLY_SERVICES)
    s = opened(monkeypatch, stack, images=False)
    s.reports_dir, s.definition = tmp_path, stack.definition
    [fitted] = s.fit([(MONGO_KILL, load_scenario(MONGO_KILL))])
    result = s.run(fitted, record=lambda r: None)
    recorded = json.loads((tmp_path / result.run_id / "journal.json").read_text())["environment"]["stack"]
    assert recorded == {"name": "postgres-only", "file": str(stack.definition.path), "overrides": [],
                        "components": ["postgres", "etcd"], "lacks": ["mongo"],
                        "roles": {"etcd": ["etcd1", "etcd2", "etcd3"], "postgres": ["db-a", "db-b", "db-c"]},
                        # the path the postgres.* signals take: no proxy named, so every member
                        "access": {"postgres": {"through": None, "services": ["db-a", "db-b", "db-c"], "port": 5432}}}


def test_a_journal_of_a_stack_never_opened_names_its_file_and_no_roles(tmp_path, monkeypatch):
    s = opened(monkeypatch, Stack(), images=False)
    s.reports_dir = tmp_path
    monkeypatch.setattr(s, "open", lambda **_: pytest.fail("the reference stack file names the MongoDB role"))
    [fitted] = s.fit([(MONGO_KILL, load_scenario(MONGO_KILL))])
    result = s.run(fitted, record=lambda r: None)
    recorded = json.loads((tmp_path / result.run_id / "journal.json").read_text())["environment"]["stack"]
    assert recorded["name"] == "api-fortress-ha" and recorded["roles"] is None and recorded["lacks"] == []
    assert recorded["components"] == ["postgres", "etcd", "rabbitmq", "mongo", "http"]


def test_a_drill_in_error_is_said_with_its_reason_as_it_ends(monkeypatch, tmp_path):
    class Failing(FakeDrill):
        def run(self):
            return RunResult(self.run_id, self.scenario.id, "error", [], self.out,
                             "no backup completed within 30 s after the steady phase: 3 of 3 attempts failed, "
                             "all with: role \"postgres\" does not exist")

    said = []
    s = drill_session(monkeypatch, tmp_path, Failing)
    s.say = said.append
    filed = load_scenario(LEADER_KILL)
    s.run(Fitted(LEADER_KILL, filed, filed, lacks=("rabbitmq",)), record=lambda r: None, progress=Shown)
    assert said == ["ERROR postgres-leader-kill: no backup completed within 30 s after the steady phase: 3 of 3 "
                    "attempts failed, all with: role \"postgres\" does not exist"]


def test_the_sessions_signer_signs_every_drill_and_every_not_run(monkeypatch, tmp_path):
    """`drill run --sign-key`: the session hands its signer to each drill and to a NOT RUN record."""
    made = []

    class Drill(FakeDrill):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    signer = object()
    s = drill_session(monkeypatch, tmp_path, Drill, signer=signer)
    filed = load_scenario(LEADER_KILL)
    s.run(Fitted(LEADER_KILL, filed, filed, ()), record=lambda r: None, progress=Shown)
    assert made[0].signer is signer
    sealed = []
    monkeypatch.setattr("drills.run.runner.seal", lambda out, signer=None: sealed.append(signer))
    s.run(Fitted(LEADER_KILL, filed, filed, (), why_not="image mongo:7 absent"), record=lambda r: None)
    assert sealed == [signer]
