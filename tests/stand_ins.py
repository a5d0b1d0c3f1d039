"""What tests' stand-in stacks share: the reference stack's role map, as `drill stack up` reads it
from stacks/reference/stack.yaml (its labels add nothing there)."""

from drills.stack.definition import RoleMap
from drills.stack.project import default_definition


def reference_roles() -> RoleMap:
    return RoleMap.build(default_definition().declared_roles(), {})
