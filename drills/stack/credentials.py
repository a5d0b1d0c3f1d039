"""Where a stack's passwords are: a `Credential` of its stack file resolved to its value.

A stack written without Drills keeps its passwords its own way, and its stack file says where
(`drills.components.base.Credential`, exactly one source):

    generated: NAME         a variable Drills generates per run (the stack file's `variables:`, or
                            one of Drills' own DRILLS_* for the reference stack) and hands to Compose
    env: NAME               Drills' environment, which the stack's Compose files read too
    file: PATH              the first line of a file, relative to the stack file
    secret: NAME            a top-level Compose secret: its `file:` (first line) or `environment:`
                            (the variable as Compose sees it: a generated one first, then Drills')
    container_env: {service, variable}   a running service's environment (docker inspect)

Each is read when a drill first needs it and kept for the project's life (`Credentials` caches
what resolved; a failure is tried again next time: a container may be up by then). A failure is a
StackError that names the stack file's field and what to add. Values never reach a record: the kept
logs redact them (`known`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from drills.components._variables import PREFIX, REFERENCE
from drills.components.base import Credential, credential_fields
from drills.core.errors import StackError
from drills.stack.definition import StackDefinition
from drills.stack.env import StackSettings, compose_env


class Sources(Protocol):
    """What resolving needs of a stack (`drills.stack.project.ComposeProject` is one)."""

    @property
    def definition(self) -> StackDefinition: ...
    @property
    def settings(self) -> StackSettings: ...
    def config(self) -> dict[str, Any]:
        """The Compose model (`docker compose config --format json`): read only for `secret:`."""
        ...
    def service_env(self, service: str) -> Sequence[str] | None:
        """A service's container environment (`KEY=value` items); None when it has no container."""
        ...


def describe(ref: Credential) -> str:
    """The source in the stack file's words, for messages: `{secret: orders_app_password}`."""
    if ref.container_env is not None:
        return f"{{container_env: {{service: {ref.container_env.service}, variable: {ref.container_env.variable}}}}}"
    name, value = next((k, v) for k, v in ref.model_dump().items() if v is not None)
    return f"{{{name}: {value}}}"


def located(spec: Any, ref: Credential) -> str | None:
    """The stack-file path of the first field that holds `ref` (`components.postgres.users.app.password`),
    None when the file does not name it (a default, such as the reference stack's DRILLS_* passwords)."""
    return next((".".join(where) for where, found in credential_fields(spec) if found == ref), None)


def first_line(text: str) -> str:
    """A password file's value: its first line without the line's end (spaces are the password's)."""
    return text.splitlines()[0] if text else ""


class Credentials:
    """The credentials of one project: resolved on first use, then kept."""

    def __init__(self, sources: Sources, environ: Mapping[str, str] | None = None) -> None:
        self._sources = sources
        self._environ = os.environ if environ is None else environ
        self._resolved: dict[Credential, str] = {}
        self._model: dict[str, Any] | None = None

    def resolve(self, ref: Credential, where: str | None = None) -> str:
        """The value of `ref`; StackError naming `where` (default: the stack file's field that
        holds it) and what to add."""
        if ref in self._resolved:
            return self._resolved[ref]
        value = self._read(ref, where or located(self._sources.definition.spec, ref) or f"the credential "
                                                                                        f"{describe(ref)}")
        self._resolved[ref] = value
        return value

    def known(self) -> list[str]:
        """Every value resolved so far, and every credential the stack file names that resolves
        now: what the kept logs must not show."""
        for ref in credentials_in(self._sources.definition.spec):
            try:
                self.resolve(ref)
            except Exception:  # a source unreadable now (no engine, no container): best effort, as logs are
                continue
        return list(self._resolved.values())

    # ---- each source ------------------------------------------------------------------------

    def _read(self, ref: Credential, where: str) -> str:
        stack = self._sources.definition.path
        if ref.generated is not None:
            return self._generated(ref.generated, where)
        if ref.env is not None:
            value = self._environ.get(ref.env, "")
            if not value:
                raise StackError(f"{where}: {{env: {ref.env}}}: {ref.env} is not set in Drills' environment "
                                 f"({stack})", hint=f"export {ref.env} where you run drill (the stack's Compose "
                                                    "files read it from there too), or name another source")
            return value
        if ref.file is not None:
            return self._file(stack.parent / ref.file, where, f"{{file: {ref.file}}}")
        if ref.secret is not None:
            return self._secret(ref.secret, where)
        if ref.container_env is not None:
            return self._container_env(ref.container_env.service, ref.container_env.variable, where)
        raise StackError(f"{where}: a credential with no source ({stack})")  # the model forbids it

    def _generated(self, name: str, where: str) -> str:
        settings = self._sources.settings
        value = settings.generated.values.get(name) or settings.secrets.env().get(name)
        if value:
            return value
        spec = self._sources.definition.spec
        if name in spec.variables:
            hint = "it was started before the stack file declared it: bring the stack up again"
        elif name.startswith(PREFIX):
            hint = f"Drills generates {', '.join(sorted(settings.secrets.env()))}: name one of them, declare it " \
                   f"under variables: if it is Drills' own ({', '.join(REFERENCE)}), or declare the stack's own " \
                   f"there (not {PREFIX})"
        else:
            hint = f"add `variables: {{{name}: {{secret: 16}}}}` to the stack file, or name another source"
        raise StackError(f"{where}: {{generated: {name}}}: the project {settings.project} has no variable {name} "
                         f"({self._sources.definition.path})", hint=hint)

    def _file(self, path: Path, where: str, said: str) -> str:
        try:
            value = first_line(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise StackError(f"{where}: {said}: cannot read {path}: {getattr(exc, 'strerror', None) or exc}",
                             hint="give a file readable by the user running drill, its password on the "
                                  "first line") from exc
        if not value:
            raise StackError(f"{where}: {said}: the first line of {path} is empty",
                             hint="write the password on the file's first line")
        return value

    def _secret(self, name: str, where: str) -> str:
        if self._model is None:
            self._model = self._sources.config()
        secrets = self._model.get("secrets") or {}
        said = f"{{secret: {name}}}"
        entry = secrets.get(name)
        if not isinstance(entry, Mapping):
            have = ", ".join(sorted(secrets)) or "none"
            raise StackError(f"{where}: {said}: the stack's Compose files define no secret {name} (top-level "
                             f"secrets: {have})", hint="name one of the Compose files' secrets, or another source")
        if entry.get("file"):
            # Compose's model holds the path resolved against the Compose file's folder.
            first = self._sources.definition.compose_files()[0].parent
            return self._file(first / str(entry["file"]), where, f"{said} (its file:)")
        if entry.get("environment"):
            variable = str(entry["environment"])
            value = compose_env(self._sources.settings, self._environ).get(variable, "")
            if not value:
                raise StackError(f"{where}: {said}: its environment: variable {variable} is not set",
                                 hint=f"export {variable} where you run drill, or declare it under the stack "
                                      f"file's variables: so that Drills generates it")
            return value
        raise StackError(f"{where}: {said}: Drills reads a Compose secret from its file: or environment: only "
                         f"(this one is {', '.join(sorted(map(str, entry))) or 'empty'})",
                         hint="name the password another way: env:, file:, or container_env:")

    def _container_env(self, service: str, variable: str, where: str) -> str:
        env = self._sources.service_env(service)
        said = f"{{container_env: {{service: {service}, variable: {variable}}}}}"
        if env is None:
            raise StackError(f"{where}: {said}: the service {service} has no container to read it from",
                             hint="container_env: reads a running service; name one the stack runs, or another "
                                  "source")
        for item in env:
            key, sep, value = str(item).partition("=")
            if key == variable and sep:
                return value
        raise StackError(f"{where}: {said}: {service}'s environment has no {variable}",
                         hint="name the variable its Compose file sets (docker compose config shows them)")


def credentials_in(spec: Any) -> list[Credential]:
    """Every credential a stack file names, in field order."""
    return [found for _, found in credential_fields(spec)]
