"""What tests' stand-in stacks share: the reference stack's role map, as `drill stack up` reads it
from stacks/reference/stack.yaml (its labels add nothing there), and its stack file, as is or with
some fields of its components changed."""

from dataclasses import replace
from typing import Any

from drills.stack.definition import RoleMap, StackDefinition
from drills.stack.project import default_definition


def reference_roles() -> RoleMap:
    return RoleMap.build(default_definition().declared_roles(), {})


def reference_definition(**components: dict[str, Any]) -> StackDefinition:
    """The reference stack file; `postgres={"database": "other"}` changes that field of that
    component (validated, as the stack file's reader would)."""
    definition = default_definition()
    changed = {}
    for name, fields in components.items():
        old = getattr(definition.spec.components, name)
        changed[name] = type(old).model_validate({**old.model_dump(), **fields})
    spec = definition.spec.model_copy(update={"components": definition.spec.components.model_copy(update=changed)})
    return replace(definition, spec=spec)


def offline_credential(stack: Any, ref: Any) -> str:
    """A credential as a stand-in stack (its `settings` and `definition`) resolves it: the sources
    that need neither Compose nor an engine (generated, env, file)."""
    from drills.stack.credentials import Credentials

    return Credentials(stack).resolve(ref)
