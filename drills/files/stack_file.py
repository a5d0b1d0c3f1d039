"""Reading a stack file (`stacks/<name>/stack.yaml`): every problem at file:line:col, like scenarios.

    definition = load_stack(Path("stacks/reference"), overrides=[Path("my-override.yaml")])

The models are `drills.stack.definition`; the YAML is read within the bounds of
`drills.files.scenario_yaml`; `drill validate` reads a file whose top level has `stack:` and `compose:`
with this module, and `drill schema --stack` prints `stack_json_schema()`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

from pydantic import ValidationError

from drills.components import registry
from drills.core.errors import ScenarioError
from drills.core.yaml_locate import (
    Loc,
    Problem,
    field_names,
    field_path,
    locate,
    plain_message,
    problem_at,
    suggest,
    walk,
)
from drills.spec.types import shorten
from drills.stack.definition import (
    REFERENCE,
    Components,
    StackDefinition,
    StackFile,
    generated_names,
)
from drills.stack.env import Secrets
from drills.stack.located import AtField

FILE_NAME = "stack.yaml"
TAGS: tuple[str, ...] = ("adapter",)
Tagged = tuple[tuple[type[Any], ...], tuple[str, ...]]  # an entry's specs and their adapters' names, in order


def _tagged_unions() -> dict[str, Tagged]:
    """The tagged unions of the schema: the entries of `components:` told by their `adapter`
    (`components.http`: the balancer's software), read from the model."""
    unions = {}
    for key, info in Components.model_fields.items():
        for member in get_args(info.annotation):  # `X | None`: the X
            if get_origin(member) is Annotated and getattr(get_args(member)[1], "discriminator", None) == TAGS[0]:
                specs = get_args(get_args(member)[0])
                unions[key] = (specs, tuple(str(get_args(spec.model_fields[TAGS[0]].annotation)[0]) for spec in specs))
    return unions


UNIONS: dict[str, Tagged] = _tagged_unions()


def _union_of(loc: tuple[Any, ...]) -> Tagged:
    """The union a location under `components:` is in (the first component key it names)."""
    key = next((str(part) for part in loc[1:2] if str(part) in UNIONS), "http")
    return UNIONS[key]


def stacks_root() -> Path:
    from drills.provision.images import project_root

    return project_root() / "stacks"


def default_stack_path() -> Path:
    return stacks_root() / REFERENCE / FILE_NAME


def stack_path(given: Path | None) -> Path:
    """The stack file for `--stack`: a file, a folder holding stack.yaml, or the reference stack."""
    if given is None:
        return default_stack_path()
    return given / FILE_NAME if given.is_dir() else given


def is_stack_data(data: object) -> bool:
    """A YAML document that is a stack file rather than a scenario (`drill validate` takes both)."""
    return isinstance(data, dict) and "stack" in data and "compose" in data


def _message(err: Any) -> str:
    names = ("must be a name of letters, digits, '.', '_' and '-' (roles: lower-case, e.g. "
             f"{registry.kinds_with('roles')[0]}, dashboard)")
    return plain_message(err, lambda got: repr(shorten(got)) if isinstance(got, str) else shorten(repr(got)),
                         pattern=names)


def _problem(path: str, root: Any, err: Any) -> Problem:
    raw: Loc = tuple(err["loc"])
    found = (err.get("ctx") or {}).get("error")
    if isinstance(found, AtField):  # a check across fields that knows which one to point at
        return problem_at(path, root, walk(StackFile, (*raw, *found.where), TAGS)[0], str(found))
    loc, _ = walk(StackFile, raw, TAGS)
    if err["type"] == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        _, parent = walk(StackFile, raw[:-1], TAGS)
        names = field_names(parent)
        listed = f" (fields: {', '.join(names)})" if names else ""
        message = _other_adapters_field(key, parent, *_union_of(raw)) or \
            f"unknown field {key!r}" + (suggest(key, names) or listed)
        return problem_at(path, root, loc, message, at_key=True)
    if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
        # some entries of components: are tagged unions (by `adapter`, UNIONS): the list of the one here.
        loc = (*loc, "adapter")
        adapters = _union_of(raw)[1]
        listed = ", ".join(adapters)
        if err["type"] == "union_tag_not_found":
            line, col = locate(root, loc[:-1])
            return Problem(path, line + 1, col + 1, field_path(loc), f"required field is missing (one of {listed})")
        tag = str((err.get("ctx") or {}).get("tag", "?"))
        message = f"unknown adapter {shorten(tag)!r}" + (suggest(tag, adapters) or f" (one of {listed})")
        return problem_at(path, root, loc, message)
    if err["type"] == "missing":
        line, col = locate(root, loc[:-1])
        return Problem(path, line + 1, col + 1, field_path(loc), "required field is missing")
    return problem_at(path, root, loc, _message(err))


def _other_adapters_field(key: str, parent: Any, specs: tuple[type[Any], ...], names: tuple[str, ...]) -> str:
    """For a field of another adapter's entry of the same union (`backend:` under `adapter: nginx`,
    `rest_port:` under `adapter: repmgr`), which adapters have it; "" when none does, or the entry
    is in no union."""
    if parent not in specs:
        return ""
    owners = [name for name, spec in zip(names, specs, strict=True)
              if spec is not parent and key in field_names(spec)]
    return f"unknown field {key!r} for this adapter; it belongs to adapter: {', '.join(owners)}" if owners else ""


def _file_problems(path: Path, root: Any, spec: StackFile) -> list[Problem]:
    """What the schema cannot know: the Compose files exist, and a DRILLS_ variable a credential
    names is one Drills generates."""
    problems = []
    for i, name in enumerate(spec.compose.files):
        missing = _compose_file_missing(path.parent / name)
        if missing:
            problems.append(problem_at(str(path), root, ("compose", "files", i), missing))
    if not problems:  # the Compose files are all there to be read
        problems += _named_in_compose(path, root, spec)
    own = sorted(Secrets.generate().env())
    for where, name in generated_names(spec.components, ("components",)):
        if name.startswith("DRILLS_") and name not in own:
            problems.append(problem_at(str(path), root, where, f"{name} is not a variable Drills generates ("
                                                               f"{', '.join(own)}): name one of those, or declare "
                                                               "the stack's own under variables: (not DRILLS_)"))
    return problems


def _compose_names(path: Path, spec: StackFile) -> tuple[set[str], set[str]] | None:
    """The top-level secrets and the services the stack's Compose files define, read as written
    (no engine, no Compose binary: `drill validate` is a check of files); None when one of them
    cannot be read so, and `drill doctor --stack` (which asks Compose) is the check then."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    secrets: set[str] = set()
    services: set[str] = set()
    for name in spec.compose.files:
        try:
            doc = YAML(typ="safe").load((path.parent / name).read_text(encoding="utf-8"))
        except (OSError, ValueError, YAMLError):  # UnicodeDecodeError is a ValueError
            return None
        if not isinstance(doc, dict):
            return None
        secrets |= set(doc.get("secrets") or {})
        services |= set(doc.get("services") or {})
    return secrets, services


def _named_in_compose(path: Path, root: Any, spec: StackFile) -> list[Problem]:
    """A credential's `secret:` is a Compose secret of the stack, and its `container_env:` a service
    of it: told before anything starts, where the stack file says it."""
    from drills.components.base import credential_fields

    named = _compose_names(path, spec)
    if named is None:
        return []
    secrets, services = named
    problems = _placed_in_compose(path, root, spec, services)
    for where, ref in credential_fields(spec.components, ("components",)):
        if ref.secret is not None and ref.secret not in secrets:
            problems.append(problem_at(str(path), root, (*where, "secret"),
                                       f"the stack's Compose files define no secret {ref.secret} (top-level "
                                       f"secrets: {', '.join(sorted(secrets)) or 'none'}): name one of them, "
                                       "or another source (env, file, container_env, generated)"))
        if ref.container_env is not None and ref.container_env.service not in services:
            problems.append(problem_at(str(path), root, (*where, "container_env", "service"),
                                       f"the stack's Compose files define no service {ref.container_env.service} "
                                       f"(services: {', '.join(sorted(services))})"))
    return problems


def _placed_in_compose(path: Path, root: Any, spec: StackFile, services: set[str]) -> list[Problem]:
    """A service the `swarm:` section places is one the Compose files define."""
    if spec.swarm is None:
        return []
    return [problem_at(str(path), root, ("swarm", "placement", service), f"the stack's Compose files define no "
                       f"service {service} (services: {', '.join(sorted(services)) or 'none'})")
            for service in spec.swarm.placement if service not in services]


def _compose_file_missing(file: Path) -> str:
    """Why `file` is not a Compose file Drills can read ("" when it is). A NUL byte or a name past
    the system's limits makes the OS refuse the path itself (ValueError, OSError), not find it absent."""
    if "\0" in str(file):
        return "a file name cannot hold a NUL byte (\\0): write the Compose file's name as it is on disk"
    try:
        if file.is_file():
            return ""
    except OSError as exc:
        return f"cannot read this Compose file name: {exc.strerror or exc}"
    try:
        shown = str(file.resolve())
    except (OSError, RuntimeError):  # a symlink loop: RuntimeError before Python 3.13
        shown = os.path.abspath(file)
    return f"no such Compose file: {shorten(shown, 200)}"


def check_stack_file(path: Path) -> tuple[StackDefinition | None, list[Problem]]:
    """The definition of one stack file and every problem found in it (the definition only if none)."""
    from drills.core.yaml_locate import to_plain
    from drills.files.scenario_yaml import load_mapping

    root, problems = load_mapping(path, "a stack file", "stack, compose, roles, ...")
    if problems:
        return None, problems
    try:
        spec = StackFile.model_validate(to_plain(root))
    except ValidationError as exc:
        return None, sorted({_problem(str(path), root, e) for e in exc.errors()})
    problems = _file_problems(path, root, spec)
    return (None if problems else StackDefinition(path.resolve(), spec)), problems


def load_stack(given: Path | None = None, overrides: tuple[Path, ...] | list[Path] = ()) -> StackDefinition:
    """The stack to drill: `--stack` (a file or a folder with stack.yaml; default the reference
    stack) with `-f` Compose overrides. Raises ScenarioError (exit 2) naming every problem."""
    import dataclasses

    path = stack_path(given)
    if not path.is_file():
        raise ScenarioError(f"no stack file {path}",
                            hint="give --stack a stack.yaml (or a folder holding one); `drill schema --stack` "
                                 "prints its format, stacks/ has examples")
    definition, problems = check_stack_file(path)
    missing = [p for p in overrides if not p.is_file()]
    if missing:
        raise ScenarioError(f"no such Compose override file: {', '.join(map(str, missing))}",
                            hint="-f takes a Compose file that overrides the stack's (as `docker compose -f`)")
    if problems or definition is None:
        raise ScenarioError("\n".join(str(p) for p in problems), hint="fix the stack file; `drill schema --stack` "
                                                                        "prints its format")
    return dataclasses.replace(definition, overrides=tuple(p.resolve() for p in overrides))


def stack_json_schema() -> dict[str, Any]:
    from drills.files.scenario_yaml import json_schema_of

    return json_schema_of(StackFile, "Drills stack file")


def stack_options(command: Any) -> Any:
    """`--stack PATH` and `-f OVERRIDE` (repeatable), for every command that brings a stack up."""
    import click

    command = click.option(
        "-f", "--override", "overrides", multiple=True, type=click.Path(path_type=Path, dir_okay=False),
        help="A Compose override file layered over the stack's (as `docker compose -f`); repeatable, in order.",
    )(command)
    return click.option(
        "--stack", "stack_path", default=None, type=click.Path(path_type=Path),
        help="The stack to drill: a stack.yaml, or a folder holding one [default: stacks/reference].")(command)


def looks_like_stack_file(path: Path, keys: set[str] | None = None) -> bool:
    """A stack file is named stack.yaml, or has the top-level keys `stack:` and `compose:` (scanned,
    cheaply: a scenario has neither at the top level; `keys`: the file's
    `drills.files.scenario_yaml.top_level_keys`, when the caller has them already)."""
    from drills.files.scenario_yaml import top_level_keys

    return path.name == FILE_NAME or {"stack", "compose"} <= (top_level_keys(path) if keys is None else keys)
