"""Whether a scenario can run on a stack, and what of it: a role it needs that the stack lacks
makes it NOT RUN, named with the roles the stack has (`absent_on_stack`; what it lacks, as the
journal records it: `lacked_roles`), a bystander signal whose role is absent is left out with its
expectations (`fit_to_stack`), and a queue the stack does not declare is a mistake in the file
(`stack_problems`). Asked by the session (`drills.run.session`) of each scenario `drill run` runs and of
the fault space `drill explore` draws from, before the stack starts."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drills.components import registry
from drills.components.base import Bound
from drills.faults import registry as faults

if TYPE_CHECKING:
    from drills.files.scenario import Scenario
    from drills.stack.definition import RoleMap
    from drills.stack.project import ComposeProject


def needed_roles(scenario: Scenario) -> list[str]:
    """The roles a scenario acts on: its faults' targets. (Its signals' roles: `fit_to_stack`.)"""
    from drills.core.roles import CLIENTS
    from drills.files.scenario_schema import SAME_TARGET

    return [step.target for step in scenario.steps if step.target not in (SAME_TARGET, CLIENTS)]


def needed_groups(scenario: Scenario) -> list[str]:
    """The role groups a scenario cannot run without: its faults' targets, and the component of an
    image it requires (`mongo:7`: the mongo role)."""
    from drills.components.registry import pulled_images
    from drills.core.roles import parse_role

    return sorted({parse_role(r).group for r in needed_roles(scenario)}
                  | {p.kind for p in pulled_images() if p.reference in scenario.requires})


def role_text(groups: Sequence[str]) -> str:
    """`mongo role`, `dashboard or worker role`, `a, b or c role`."""
    names = sorted(groups)
    return (f"{', '.join(names[:-1])} or {names[-1]}" if len(names) > 1 else "".join(names)) + " role"


def declared_text(roles: RoleMap, defined: Sequence[str]) -> str:
    """What the stack has instead, for a reason that names what it lacks."""
    if roles.roles:
        return f"it declares {', '.join(sorted(roles.roles))}"
    return f"it declares no role; its services: {', '.join(sorted(defined)) or 'none'}"


def lacked_roles(scenario: Scenario, stack: ComposeProject, defined: Sequence[str]) -> list[str]:
    """The role groups the scenario needs (its faults' targets, a required image's component, its
    signals' roles) that the stack has in none of its profiles: what it lacks for this scenario, as
    the journal records it (`environment.stack.lacks`). A role left out with its profile (MongoDB
    without its image) is not lacking: the stack has it."""
    from drills.core.roles import parse_role
    from drills.workload.registry import KINDS

    roles = stack.settings.roles
    groups = set(needed_groups(scenario)) | {parse_role(r).group for name in scenario.workload
                                             for r in KINDS[name].needs()}
    return sorted(g for g in groups if not roles.declares(g, defined))


def absent_on_stack(scenario: Scenario, stack: ComposeProject, defined: Sequence[str], image: str = "") -> str:
    """Why `scenario` cannot run on `stack`, or "" when it can. First a role it needs that the stack
    has in none of its profiles (a stack without RabbitMQ or MongoDB: getting an image would change
    nothing), named with the roles it has; then `image`, why an image it requires is absent from
    this machine (the stack has the role, the image would bring it); then a role left out with its
    profile (MongoDB without its image); then a backup method the stack does not list. A defined
    service without a container is no such case: that stack is incomplete (exit 3)."""
    roles = stack.settings.roles
    absent = [g for g in needed_groups(scenario) if not roles.members(g, defined)]
    never = [g for g in absent if not roles.declares(g, defined)]
    if never:
        return (f"stack {stack.definition.name} ({stack.project}) has no {role_text(never)} "
                f"({declared_text(roles, defined)})")
    if image:
        return image
    method = backup_method(scenario)
    lacking = None if scenario.backup is None else no_backups(stack.definition.bound(), scenario.backup.component)
    if not absent and lacking is not None:
        restores = any(faults.fault_of(step).needs_backup for step in scenario.steps)
        return f"adapter {lacking} has no restore of a total failure" if restores else \
            f"adapter {lacking} takes no backup ({method})"
    if not absent and method is not None and method not in stack.definition.spec.backups:
        return (f"stack {stack.definition.name} does not list the backup method {method} (its backups: "
                f"{', '.join(stack.definition.spec.backups) or 'none'})")
    if not absent:
        return ""
    reasons = []
    for group in absent:
        why = left_out(stack, group)
        if why:
            again = ("; `drill run` without --project, or a stack from a new `drill stack up`, includes it where its "
                     "image is here") if stack.owner_kind == "stack" else ""
            reasons.append(f"no {group} service: it was brought up without it ({why}){again}")
        else:
            reasons.append(f"no {group} service: its profile was left out")
    return f"stack {stack.definition.name} ({stack.project}) has " + "; ".join(reasons)


def left_out(stack: ComposeProject, group: str) -> str:
    """Why the stack was brought up without `group`'s profile, the one of an image it pulls (MongoDB
    without its image here); "" when it was not left out so, or nobody said why."""
    reasons = [stack.settings.not_run(p.profile) for p in registry.pulled_images() if p.kind == group]
    return next((why for why in reasons if why), "")


def fit_to_stack(scenario: Scenario, stack: ComposeProject, defined: Sequence[str]) -> tuple[Scenario, list[str]]:
    """The scenario as it can run on `stack`: a bystander signal whose role the stack lacks (the
    RabbitMQ traffic beside a PostgreSQL failover, on a stack without RabbitMQ) is left out with the
    expectations about it, each listed (NOT RUN, with the missing role) in what is returned. The
    faults' targets are not left out: without them the scenario is NOT RUN (`absent_on_stack`)."""
    from drills.core.roles import parse_role
    from drills.workload.registry import KINDS

    roles = stack.settings.roles
    missing = {name: [r for r in KINDS[name].needs() if not roles.members(parse_role(r).group, defined)]
               for name in scenario.workload}
    dropped = {name: lacks for name, lacks in missing.items() if lacks}
    if not dropped:
        return scenario, []
    absent = {r for lacks in dropped.values() for r in lacks}
    gone = set(dropped) | absent

    def about_gone(exp: Any) -> bool:
        return any(isinstance(v, str) and v in gone for v in exp.model_dump().values())

    kept = tuple(e for e in scenario.expectations if not about_gone(e))
    left_out = [f"{e.checker}: {next(v for v in e.model_dump().values() if isinstance(v, str) and v in gone)}"
                for e in scenario.expectations if about_gone(e)]
    why = f"stack {stack.definition.name} has no {role_text(sorted(absent))}"
    recovery = scenario.recovery.model_copy(
        update={"conditions": tuple(c for c in scenario.recovery.conditions if c not in absent)})
    fitted = scenario.model_copy(update={
        "workload": {name: spec for name, spec in scenario.workload.items() if name not in dropped},
        "expectations": kept, "recovery": recovery})
    return fitted, [f"{item} NOT RUN ({why})" for item in left_out] or [f"signals {', '.join(dropped)} NOT RUN ({why})"]


def no_backups(bound: Mapping[str, Bound[Any]], group: str) -> str | None:
    """The adapter of the component `group` names when it declares no backup method (repmgr: a
    new cluster needs the stack's own bootstrap); None when it has some, or its knowledge is still
    in drills.stack (whose methods the stack file lists)."""
    found = registry.of_group(bound, group)
    return found.adapter.name if found is not None and not found.adapter.backups else None


def backup_method(scenario: Scenario) -> str | None:
    """The stack file's name of the backup a scenario takes (postgres.dump, rabbitmq.definitions)."""
    if scenario.backup is None:
        return None
    kind, method = scenario.backup.component, scenario.backup.method
    # the kind's stack-file name for the scenario's method (a RabbitMQ dump is its definitions)
    words = registry.VOCABULARY.get(kind)
    name = next((name for name, said in words.backups if said == method), method) if words is not None else method
    return f"{kind}.{name}"


def stack_problems(scenario: Scenario, path: Path, stack: ComposeProject, *,
                   field: Callable[[int], str] = lambda i: f"steps[{i}].target") -> list[str]:
    """What a scenario names that the stack it is to run on lacks: a qualifier of a role (a
    queue: `rabbitmq.leader@QUEUE`) that its component's entry does not declare, when it declares
    some. `field`: where the file holds step i's target (an exploration: its fault space)."""
    from drills.core.roles import parse_role

    bound = stack.definition.bound()
    problems = []
    for i, step in enumerate(scenario.steps):
        try:
            ref = parse_role(step.target)
        except Exception:  # `same`, `clients`: nothing the stack file names
            continue
        named = ref.selector.partition("@")[2]
        found = registry.of_group(bound, ref.group)
        kind = found.adapter.kind if found is not None else ref.group
        words = registry.VOCABULARY.get(kind)
        if not named or words is None or words.qualifier is None:
            continue
        entry = getattr(stack.definition.spec.components, ref.group, None)  # a legacy kind's, by its key
        declared = registry.declared_qualifiers(kind, found, entry)
        if declared and named not in declared:
            problems.append(f"{path}: {field(i)} {step.target}: the stack {stack.definition.name} declares no "
                            f"{words.qualifier} {named!r} (its {words.qualifier}s: {', '.join(declared)})")
    return problems
