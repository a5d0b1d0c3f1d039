"""A session: drills run on one stack, whoever asks. `drill run`, `drill explore` and the pytest
plugin are thin callers of this one module, which owns what running drills takes: the engine's
client, the clean-up of what dead runs left, the stack created (this session's own) or attached
(`--project`), each scenario fitted to it, its boot timed, the return to the verified baseline
before each drill, the drill itself, and a signal that came while a drill healed raised once
that drill is recorded.

    with Session(reports_dir=..., definition=..., project=...) as session:  client; dead runs cleaned
        fitted = session.fit([(path, scenario), ...])  the stack created or attached, not started;
                                                        what runs, left out or NOT RUN, and why
        session.up()                                    a stack of its own started (timed: stack_up_s)
        session.run_all(fitted, record=results.append)  from the baseline, one drill (or NOT RUN,
                                                        ERROR) each, recorded as it ends
    the stack this session started is taken down on the way out, whatever happened.

`drill explore` opens the stack itself (`open()`), fits its fault space (`fit_space`) and each
drawn example (`fit_example`), and runs those the same way. Signal trapping (SIGTERM, SIGHUP) is
the commands' own (`drills.core.interrupts.trapped()`): the session raises what the trap holds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import click

from drills.core import interrupts
from drills.core.errors import ScenarioError
from drills.records.result import RunResult
from drills.run.cleanup import clean
from drills.run.runner import Drill, not_run
from drills.run.stack_fit import absent_on_stack, fit_to_stack, lacked_roles, needed_groups, stack_problems
from drills.stack.baseline import bring_back, to_baseline

if TYPE_CHECKING:
    from types import TracebackType

    import docker

    from drills.core.history import History
    from drills.files.scenario import Scenario
    from drills.records.signing import Signer
    from drills.stack.definition import StackDefinition
    from drills.stack.presence import Presence
    from drills.stack.project import ComposeProject

Say = Callable[[str], None]
Record = Callable[[RunResult], None]

# The one hint of a scenario or fault space naming what the stack lacks; `verb`: drill, explore.
LACKS_HINT = "name what the stack has (`drill stack status` lists its roles), or {verb} a stack that has it (--stack)"


def say_on_stderr(text: str) -> None:
    click.echo(text, err=True)


def warn_on_stderr(text: str) -> None:
    click.secho(text, fg="yellow", err=True)


class DrillProgress(Protocol):
    """What shows a drill as it goes (`drills.run.runner.Progress`), told the drill's history once it
    exists and closed once the drill is over."""

    def phase(self, name: str, detail: str = "") -> None: ...
    def watch(self, history: History) -> None: ...
    def close(self) -> None: ...


class ConsoleProgress:
    """Phase changes as they happen, and every few seconds each signal's ok/fail counts."""

    def __init__(self, scenario_id: str) -> None:
        self.scenario_id = scenario_id
        self.t0 = time.monotonic()
        self.history: History | None = None
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def _line(self, text: str) -> None:
        click.echo(f"[{time.monotonic() - self.t0:6.1f}s] {self.scenario_id}: {text}", err=True)

    def phase(self, name: str, detail: str = "") -> None:
        self._line(f"{name} {detail}".rstrip())

    def watch(self, history: History, every_s: float = 5.0) -> None:
        self.history = history

        def tick() -> None:
            while not self._stop.wait(every_s):
                counts = dict(history.counts)
                if counts:
                    self._line("  " + "  ".join(f"{k}={v}" for k, v in sorted(counts.items())))

        self._ticker = threading.Thread(target=tick, name="progress", daemon=True)
        self._ticker.start()

    def close(self) -> None:
        self._stop.set()


@dataclass(frozen=True)
class Fitted:
    """A scenario as it runs on the session's stack: `scenario` without what the stack cannot
    drive (`left_out`, each said and journaled as NOT RUN), or NOT RUN as a whole (`why_not`).
    `filed` is the scenario as its file holds it: what the record of a run that did not start
    names. `problems`: what the file names that the stack lacks (a mistake: refused, exit 2).
    `lacks`: the roles it needs that the stack has in none of its profiles (its journal's
    `environment.stack.lacks`: the report leaves such a run out of the stack's readiness)."""

    path: Path
    scenario: Scenario
    filed: Scenario
    left_out: tuple[str, ...] = ()
    why_not: str = ""
    problems: tuple[str, ...] = ()
    lacks: tuple[str, ...] = ()


def lacking(problems: Sequence[str], *, verb: str) -> ScenarioError:
    """The error for a file that names what the stack lacks, with the one hint."""
    return ScenarioError("\n".join(problems), hint=LACKS_HINT.format(verb=verb))


def image_missing(scenario: Scenario, present: Callable[[str], bool]) -> str:
    """Why `scenario` is NOT RUN on this machine for an image it requires that is absent, or "".
    A component's pulled image (`mongo:7`) is answered by the site's own where its variable names
    one (DRILLS_MONGO_IMAGE)."""
    from drills.components.registry import pulled_images
    from drills.provision.requirements import describe, stand_ins, unmet

    answers = stand_ins(pulled_images())
    missing = [describe(r, answers) for r in unmet(scenario.requires, present, answers)]
    return f"image {', '.join(missing)} absent on this machine (`drill doctor` says how to get it)" if missing else ""


def image_here(client: docker.DockerClient, image: str) -> bool:
    """Whether the engine has `image`, asked as its component asks where it is a pulled one."""
    from drills.components.registry import pulled_images
    from drills.provision.base_image import present

    lookup = next((p.present for p in pulled_images() if p.image() == image), present)
    return lookup(client, image)


def fit_scenario(scenario: Scenario, path: Path, stack: ComposeProject, defined: Sequence[str], *,
                 field: Callable[[int], str] = lambda i: f"steps[{i}].target", image: str = "") -> Fitted:
    """`scenario` fitted to `stack` (which defines the services `defined`): NOT RUN for a role it
    acts on that the stack lacks, for `image` (why an image it requires is absent here: said only
    where the stack has the role it would run), or for every expectation left out; else what of it
    runs."""
    problems = tuple(stack_problems(scenario, path, stack, field=field))
    lacks = tuple(lacked_roles(scenario, stack, defined))
    why = absent_on_stack(scenario, stack, defined, image)
    if why:
        return Fitted(path, scenario, scenario, why_not=why, problems=problems, lacks=lacks)
    runnable, left_out = fit_to_stack(scenario, stack, defined)
    return Fitted(path, runnable, scenario, tuple(left_out), "" if runnable.expectations else "; ".join(left_out),
                  problems, lacks)


def fit_space(probe: Scenario, name: str, stack: ComposeProject, defined: Sequence[str]) -> tuple[str, list[str]]:
    """Whether an exploration's fault space can be explored on `stack`, asked before it starts,
    of `probe` (a scenario holding every step the space may draw): a target the stack lacks is
    refused (ScenarioError, at the fault space); then why not (a role some fault targets, or the
    workload needs, that the stack lacks; or every invariant left out), or "", and the
    invariants left out of every example (a bystander signal's role absent)."""
    fitted = fit_scenario(probe, Path(name), stack, defined, field=lambda i: "fault_space target")
    if fitted.problems:
        raise lacking(fitted.problems, verb="explore")
    return fitted.why_not, list(fitted.left_out)


class Session:
    """Drills on one stack (the module's docstring says what it owns). `definition`: the stack
    file of a stack of its own (None: the reference stack); `project`: a stack already up to
    attach to instead (never started nor removed here). `say`: what it tells (stderr by
    default); `warn`: what could not be removed at the end; `tell_down`: say so before the
    stack is taken down."""

    def __init__(self, *, reports_dir: Path, definition: StackDefinition | None = None, project: str | None = None,
                 say: Say = say_on_stderr, warn: Say = warn_on_stderr, tell_down: bool = False,
                 signer: Signer | None = None) -> None:
        self.reports_dir = reports_dir
        self.signer = signer  # every run's manifest is signed with it when given
        self.definition, self.project = definition, project
        self.say, self.warn, self.tell_down = say, warn, tell_down
        self.stack: ComposeProject | None = None
        self._opened: ComposeProject | None = None  # the stack as opened, kept when nothing runs on it
        self.stack_up_s: float | None = None  # how long the boot of a stack of its own took
        self._client: docker.DockerClient | None = None
        self._found: Presence | None = None
        self._defined: tuple[str, ...] | None = None
        self._started = False  # up() was called on a stack of its own: it is taken down on exit

    @property
    def own(self) -> bool:
        """The stack is this session's own (created, started and removed here), not attached."""
        return self.project is None

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            raise RuntimeError("the session is not open: use it as `with Session(...) as session`")
        return self._client

    def __enter__(self) -> Session:
        from drills.provision import engine
        from drills.stack.presence import require_complete

        # Containers gone behind our back: say so at once (exit 3), not after a readiness timeout.
        self._found = require_complete(self.project) if self.project is not None else None
        self._client = engine.client()
        clean(self._client)  # heal and remove what a killed runner left behind, before anything new starts
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if not self._started or self.stack is None:
            return
        if self.tell_down:
            self.say(f"taking stack {self.stack.project} down")
        for leftover in self.stack.down().left:  # said, not raised: the drills' results stand
            self.warn(f"warning: {leftover}")

    # ---- the stack ----------------------------------------------------------------------------

    def open(self, *, build: bool = True) -> ComposeProject:
        """The stack: created, not started (its Compose model and role map say what it has), or
        attached (`project`). `build` False: its images are not built (only its roles are asked:
        nothing will run on it)."""
        from drills.stack.project import ComposeProject

        self.stack = ComposeProject.attach(self.project, self.client) if self.project else \
            ComposeProject.create(client=self.client, definition=self.definition, images=None if build else {})
        self._opened = self.stack
        return self.stack

    def described(self, lacks: Sequence[str] = ()) -> dict[str, Any]:
        """The stack as a journal records it (`environment.stack`): name, file, components, roles
        (None where it was never opened) and what a scenario needed that it `lacks`."""
        from drills.stack.project import default_definition

        if self._opened is not None:
            return self._opened.definition.record(self._opened.settings.roles, lacks)
        return (self.definition or default_definition()).record(None, lacks)

    @property
    def defined(self) -> tuple[str, ...]:
        """The services the stack defines (a node is named by them even when its container is gone)."""
        if self._defined is None:
            if self.stack is None:
                raise RuntimeError("no stack yet: open() or fit() first")
            self._defined = self._found.expected if self._found is not None else self.stack.defined_services()
        return self._defined

    def up(self) -> None:
        """Start a stack of its own, timed; an attached stack is up already, and no stack is
        there when nothing can run."""
        if self.stack is None or not self.own:
            return
        self.say(f"starting stack {self.stack.project}")
        self._started = True  # from here on it is taken down on the way out, also if the boot fails
        t_up = time.monotonic()
        self.stack.up()
        self.stack_up_s = round(time.monotonic() - t_up, 1)

    # ---- fitting ------------------------------------------------------------------------------

    def fit(self, scenarios: Sequence[tuple[Path, Scenario]]) -> list[Fitted]:
        """Each scenario as it runs on the stack, or why not: first a role the stack lacks (an
        image would change nothing), then an absent image (decided once: images do not appear
        mid-run), then what the stack file says. Where every scenario lacks an image, the stack is
        opened (its images not built) only when its file alone cannot say that it has their roles;
        a scenario naming what the stack lacks stops the run before anything starts."""
        absent = {path: image_missing(sc, partial(image_here, self.client)) for path, sc in scenarios}
        if all(absent.values()) and self._declares_all(sc for _, sc in scenarios):
            return [Fitted(path, sc, sc, why_not=absent[path]) for path, sc in scenarios]
        stack = self.open(build=not all(absent.values()))
        fitted = [fit_scenario(sc, path, stack, self.defined, image=absent[path]) for path, sc in scenarios]
        problems = [p for f in fitted if not f.why_not for p in f.problems]
        if problems:
            raise lacking(problems, verb="drill")
        if all(f.why_not for f in fitted):
            self.stack = None  # nothing runs on it: never started
        return fitted

    def _declares_all(self, scenarios: Iterable[Scenario]) -> bool:
        """Whether the stack file of a stack of its own names every role group these scenarios need
        (in `roles:` or `components:`), so that no Compose model need be read to know it has them;
        roles named by labels only are known once the stack is opened."""
        from drills.stack.project import default_definition

        if not self.own:
            return False  # attaching costs nothing, and its saved file is the one to ask
        definition = self.definition or default_definition()
        named = set(definition.declared_roles()) | set(definition.component_names())
        return all(set(needed_groups(sc)) <= named for sc in scenarios)

    def fit_example(self, scenario: Scenario, path: Path) -> Fitted:
        """A scenario drawn from a fault space already fitted (`fit_space`): what of it runs; a
        replay of its file by `drill run` on the same stack leaves out the same."""
        if self.stack is None:
            raise RuntimeError("no stack yet: open() first")
        runnable, left_out = fit_to_stack(scenario, self.stack, self.defined)
        return Fitted(path, runnable, scenario, tuple(left_out),
                      lacks=tuple(lacked_roles(scenario, self.stack, self.defined)))

    # ---- drills -------------------------------------------------------------------------------

    def run_all(self, fitted: Sequence[Fitted], *, record: Record, label: Callable[[str], str] | None = None) -> None:
        """Each scenario in turn (`run`); `label`: its progress lines' name from its id."""
        for each in fitted:
            self.run(each, record=record, label=label(each.scenario.id) if label is not None else None)

    def run(self, fitted: Fitted, *, record: Record, label: str | None = None,
            progress: Callable[[], DrillProgress] | None = None) -> RunResult:
        """One scenario as a drill on the stack, from its verified baseline, its result handed to
        `record` as soon as it is known (also the aborted one of a drill a signal stopped). NOT
        RUN is recorded as such; a stack not back at its baseline is brought back first, and the
        drill's record says so. `progress`: made once the drill is about to start (default:
        console lines named `label`, the parts left out said first). A signal that came while
        the drill healed is raised once its result is recorded."""
        from drills.workload.suite import build_workload

        scenario = fitted.scenario
        if fitted.why_not:
            result = not_run(fitted.filed, fitted.path, self.reports_dir, fitted.why_not,
                             stack=self.described(fitted.lacks), signer=self.signer)
            record(result)
            self.say(f"NOT RUN {scenario.id}: {fitted.why_not}")
            return result
        brought_back = self._baseline(fitted)
        shown = progress() if progress is not None else self._console(fitted, label or scenario.id)
        assert self.stack is not None  # _baseline waited on it
        drill = Drill(scenario, fitted.path, self.stack, reports_dir=self.reports_dir,
                      workload_factory=build_workload, progress=shown, left_out=fitted.left_out,
                      lacks=fitted.lacks, brought_back=brought_back, signer=self.signer)
        shown.watch(drill.history)
        try:
            result = drill.run()  # heals whatever it applied, also when interrupted
        except (KeyboardInterrupt, SystemExit) as exc:
            # Drill.run healed and wrote its journal as aborted: the record lists it so.
            record(RunResult(drill.run_id, scenario.id, "aborted", [], drill.out, interrupts.describe(exc),
                             drill.now(), policy=scenario.policy))
            raise
        finally:
            shown.close()
        record(result)
        for paced in result.pacing:
            if paced.held is False:
                self.say(f"{scenario.id}: {paced.line()}")
        if result.status == "error":  # said as it happens: the summary comes only after the whole suite
            self.say(f"ERROR {scenario.id}: {result.reason}")
        interrupts.raise_pending()  # a signal that came while the drill healed: stop here
        return result

    def _baseline(self, fitted: Fitted) -> str:
        """One stack serves every drill: back at its verified baseline first, brought back if need
        be; why it had to be ("" when it did not), said now and kept in the drill's record."""
        from drills.stack.readiness import wait_ready

        if self.stack is None:
            raise RuntimeError("no stack to run on: fit() or open() first")
        why = to_baseline(partial(wait_ready, self.stack, timeout_s=fitted.scenario.recovery.timeout),
                          partial(bring_back, self.stack, own=self.own))
        if why:
            self.say(f"{fitted.scenario.id}: {why}")
        return why

    def _console(self, fitted: Fitted, label: str) -> ConsoleProgress:
        shown = ConsoleProgress(label)
        for line in fitted.left_out:
            self.say(f"{fitted.scenario.id}: {line}")
        return shown


def run_scenarios(scenarios: Sequence[tuple[Path, Scenario]], *, project: str | None, reports_dir: Path,
                  definition: StackDefinition | None = None) -> list[RunResult]:
    """The scenarios once over in one session, as `drill run` runs them: one result each."""
    results: list[RunResult] = []
    with Session(reports_dir=reports_dir, definition=definition, project=project) as session:
        fitted = session.fit(scenarios)
        session.up()
        session.run_all(fitted, record=results.append)
    return results
