"""A restore brings a component's nodes back under the names the stack's Compose file gives them,
read from Compose (no container is left to read them from after a total failure), with the roles
of the stack's role map."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drills.backup.target import nodes_of
from drills.core.errors import FaultError
from drills.stack.definition import RoleMap
from drills.stack.env import Secrets, StackSettings


class DefinedOnly:
    """A stack as a restore sees it after a total failure: services defined, no container."""

    project = "drills-test"

    def __init__(self, services: tuple[str, ...], roles: RoleMap) -> None:
        self.services = services
        self.settings = StackSettings("drills-test", ipaddress.IPv4Network("172.30.9.0/24"), {}, Secrets.generate(),
                                      roles=roles)

    def defined_services(self) -> tuple[str, ...]:
        return self.services


@given(st.sets(st.integers(1, 40), min_size=1, max_size=6),
       st.sets(st.sampled_from(["etcd1", "lb", "dashboard1", "rabbit1", "worker2"]), max_size=5))
def test_the_nodes_are_the_ones_compose_defines(numbers: set[int], others: set[str]) -> None:
    pg = {f"pg{n}" for n in numbers}
    roles = RoleMap.build({"postgres": sorted(pg), "rabbitmq": ["rabbit1", "rabbit2"]}, {})
    got = nodes_of(DefinedOnly(tuple(sorted(pg | others)), roles), "postgres")  # type: ignore[arg-type]
    assert got == sorted(pg, key=lambda s: int(s[2:]))


def test_a_stack_without_the_component_is_an_error_not_our_node_names() -> None:
    with pytest.raises(FaultError, match="defines no rabbitmq node"):
        nodes_of(DefinedOnly(("pg1", "pg2", "etcd1"), RoleMap.build({"rabbitmq": ["rabbit1"]}, {})),  # type: ignore[arg-type]
                 "rabbitmq")
