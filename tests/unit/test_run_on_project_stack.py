"""Which scenarios a stack can run: a scenario needing a role of which the stack defines no
service (MongoDB left out for want of its image; a stack without RabbitMQ) is NOT RUN with the
reason, the others run. A component the stack defines but whose containers are gone is no such
case: the stack is incomplete (exit 3)."""

import dataclasses
import ipaddress
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from ruamel.yaml import YAML

from drills.components._mongo_image import MONGO_IMAGE
from drills.files.scenario import load_scenario
from drills.run.stack_fit import absent_on_stack, lacked_roles, needed_groups, stack_problems
from drills.stack import ports
from drills.stack.definition import RoleMap
from drills.stack.env import Secrets, StackSettings
from drills.stack.presence import Presence, absent_components, components_of
from drills.stack.project import ComposeProject, compose_file, default_definition

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.yaml"))
PROJECT = "drills-nomongo"


def defined_services(profiles: tuple[str, ...]) -> tuple[str, ...]:
    """What `compose config --services` lists for these profiles, read from the compose file itself."""
    services = YAML(typ="safe").load(compose_file().read_text())["services"]
    return tuple(sorted(name for name, spec in services.items()
                        if not spec.get("profiles") or set(spec["profiles"]) & set(profiles)))


def reference_stack(**changes) -> ComposeProject:
    """The reference stack as `drill stack up` saved it when the MongoDB image was absent."""
    definition = default_definition()
    settings = StackSettings(project=PROJECT, subnet=ipaddress.IPv4Network("172.31.250.0/24"), images={},
                             secrets=Secrets.generate(), ports=ports.assign(compose_file().read_text()),
                             left_out={"mongo": "image mongo:7 absent"}, definition=definition,
                             roles=RoleMap.build(definition.declared_roles(), {}))
    return ComposeProject(dataclasses.replace(settings, **changes))


def test_without_mongo_only_the_mongo_scenarios_are_not_run():
    stack = reference_stack()
    reasons = {path.stem: absent_on_stack(load_scenario(path), stack, defined_services(())) for path in SCENARIOS}
    not_run = {name for name, why in reasons.items() if why}
    assert not_run == {path.stem for path in SCENARIOS if "mongo:7" in load_scenario(path).requires}
    assert len(not_run) == 7  # the MongoDB drills, the frozen primary included
    for name in not_run:
        assert reasons[name] == (f"stack api-fortress-ha ({PROJECT}) has no mongo service: it was brought up "
                                 "without it (image mongo:7 absent)")


def test_with_mongo_defined_every_scenario_runs_even_with_its_containers_gone():
    expected = defined_services((MONGO_IMAGE.profile,))
    stack = reference_stack(left_out={})
    mongo = tuple(s for s in expected if s.startswith("mongo"))
    assert mongo, "the compose file defines the MongoDB services under its profile"
    assert [absent_on_stack(load_scenario(path), stack, expected) for path in SCENARIOS] == [""] * len(SCENARIOS)
    # Those containers gone is the incomplete stack `require_complete` refuses (exit 3), not NOT RUN.
    assert not Presence(PROJECT, expected, mongo).complete


def test_a_stack_without_rabbitmq_runs_no_scenario_that_drives_or_breaks_it():
    stack = reference_stack(roles=RoleMap.build({"postgres": ["pg1", "pg2", "pg3"], "etcd": ["etcd1"]}, {}))
    defined = ("etcd1", "pg1", "pg2", "pg3")
    for path in SCENARIOS:
        scenario = load_scenario(path)
        why = absent_on_stack(scenario, stack, defined)
        if any("rabbitmq" in s.target for s in scenario.steps):
            assert "no rabbitmq role" in why, path.stem
        elif "rabbitmq.publish" in scenario.workload and not why:
            from drills.run.stack_fit import fit_to_stack

            fitted, left_out = fit_to_stack(scenario, stack, defined)
            assert "rabbitmq.publish" not in fitted.workload and left_out, path.stem


def test_a_queue_the_stack_does_not_declare_is_a_problem_before_anything_starts(tmp_path):
    scenario = load_scenario(next(p for p in SCENARIOS if p.stem == "rabbitmq-node-partition"))
    steps = tuple(s.model_copy(update={"target": "rabbitmq.leader@nope"}) for s in scenario.steps)
    wrong = scenario.model_copy(update={"steps": steps})
    stack = reference_stack()
    assert stack_problems(scenario, Path("s.yaml"), stack) == []
    [problem] = stack_problems(wrong, Path("s.yaml"), stack)
    assert "declares no queue 'nope'" in problem and "scheduled-runs" in problem


@given(st.sets(st.sampled_from(["postgres", "rabbitmq", "mongo", "etcd"])),
       st.sets(st.sampled_from(["postgres", "rabbitmq", "mongo", "etcd"])))
def test_a_component_is_absent_only_when_no_service_of_it_is_defined(needed, present):
    roles = RoleMap.build({c: [f"{c}-node{i}" for i in (1, 2)] for c in ("postgres", "rabbitmq", "mongo", "etcd")},
                          {})
    services = [f"{c}-node{i}" for c in present for i in (1, 2)] + ["lb", "dashboard1", "mongo-init"]
    assert set(absent_components(needed, services, roles)) == needed - present


def test_roles_and_signals_name_their_component():
    assert components_of(["mongo.primary", "postgres.write", "rabbitmq.*", "etcd[1]", "dashboard[0]", "same",
                          "clients", "rabbitmq.leader@notifications", "http.dashboard"]) == {
        "mongo", "postgres", "rabbitmq", "etcd", "http"}


def test_a_bystander_signal_the_stack_cannot_drive_is_left_out_with_its_expectations_and_said_so():
    from drills.run.stack_fit import fit_to_stack

    stack = reference_stack(roles=RoleMap.build({"postgres": ["db-a", "db-b", "db-c"], "etcd": ["etcd1"]}, {}))
    defined = ("db-a", "db-b", "db-c", "etcd1")
    scenario = load_scenario(next(p for p in SCENARIOS if p.stem == "postgres-leader-kill"))
    assert "rabbitmq.publish" in scenario.workload
    fitted, left_out = fit_to_stack(scenario, stack, defined)
    assert set(fitted.workload) == set(scenario.workload) - {"rabbitmq.publish"}
    about_rabbit = [e for e in scenario.expectations if "rabbitmq.publish" in e.model_dump().values()]
    assert about_rabbit and len(fitted.expectations) == len(scenario.expectations) - len(about_rabbit)
    assert left_out == [f"{e.checker}: rabbitmq.publish NOT RUN (stack api-fortress-ha has no rabbitmq role)"
                        for e in about_rabbit]
    assert fitted.steps == scenario.steps and absent_on_stack(scenario, stack, defined) == ""


def test_on_the_reference_stack_nothing_is_left_out():
    from drills.run.stack_fit import fit_to_stack

    stack = reference_stack(left_out={})
    for path in SCENARIOS:
        scenario = load_scenario(path)
        assert fit_to_stack(scenario, stack, defined_services((MONGO_IMAGE.profile,))) == (scenario, [])


def test_a_backup_method_the_stack_does_not_list_makes_the_scenario_not_run():
    import dataclasses as dc

    stack = reference_stack(left_out={})
    scenario = load_scenario(next(p for p in SCENARIOS if p.stem == "postgres-global-failure-restore-snapshot"))
    defined = defined_services((MONGO_IMAGE.profile,))
    assert absent_on_stack(scenario, stack, defined) == ""
    spec = stack.definition.spec.model_copy(update={"backups": ["postgres.dump"]})
    narrowed = reference_stack(left_out={}, definition=dc.replace(stack.definition, spec=spec))
    assert absent_on_stack(scenario, narrowed, defined) == (
        "stack api-fortress-ha does not list the backup method postgres.snapshot (its backups: postgres.dump)")


def test_an_exploration_is_fitted_to_the_stack_before_anything_starts(tmp_path):
    """`drill explore` asks the same before it starts: a fault space over roles the stack lacks is
    NOT RUN with why; a bystander invariant's role absent leaves that invariant out, said so."""
    from drills.explore.runner import fit_of_space
    from drills.files.exploration import load_exploration

    exploration = load_exploration(Path(__file__).resolve().parents[2] / "explorations" / "postgres-failover.yaml")
    assert fit_of_space(exploration, reference_stack(left_out={}), defined_services((MONGO_IMAGE.profile,))) == ("", [])
    no_postgres = reference_stack(roles=RoleMap.build({"rabbitmq": ["mq1", "mq2", "mq3"]}, {}))
    why, _ = fit_of_space(exploration, no_postgres, ("mq1", "mq2", "mq3"))
    assert why.startswith("stack api-fortress-ha (drills-nomongo) has no") and "postgres role" in why
    only_postgres = reference_stack(roles=RoleMap.build({"postgres": ["db-a", "db-b", "db-c"], "etcd": ["etcd1"]}, {}))
    text = (Path(__file__).resolve().parents[2] / "explorations" / "postgres-failover.yaml").read_text()
    rabbit = ("  - checker: availability\n    signal: rabbitmq.publish\n    max_error_rate_during_fault: 0.01\n"
              "    why: RabbitMQ shares nothing with PostgreSQL\n")
    with_rabbit = tmp_path / "with-rabbit.yaml"
    load = "postgres.write: {rate: 50}"
    with_rabbit.write_text(text.replace(load, load + "\n  rabbitmq.publish: {rate: 20}") + rabbit)
    why, left_out = fit_of_space(load_exploration(with_rabbit), only_postgres, ("db-a", "db-b", "db-c", "etcd1"))
    assert why == ""
    assert left_out == ["availability: rabbitmq.publish NOT RUN (stack api-fortress-ha has no rabbitmq role)"]


def test_an_exploration_naming_a_queue_the_stack_does_not_declare_is_refused_at_its_fault_space(tmp_path):
    import pytest

    from drills.core.errors import ScenarioError
    from drills.explore.runner import fit_of_space
    from drills.files.exploration import load_exploration

    text = (Path(__file__).resolve().parents[2] / "explorations" / "postgres-failover.yaml").read_text()
    odd = tmp_path / "odd-queue.yaml"
    odd.write_text(text.replace("    - kind: kill\n      targets: [postgres.leader, postgres.replica, postgres.*]",
                                "    - kind: kill\n      targets: [rabbitmq.leader@no-such-queue]", 1))
    with pytest.raises(ScenarioError) as err:
        fit_of_space(load_exploration(odd), reference_stack(left_out={}), defined_services((MONGO_IMAGE.profile,)))
    assert "postgres-failover: fault_space target rabbitmq.leader@no-such-queue: the stack" in str(err.value)
    assert "declares no queue 'no-such-queue'" in str(err.value)


# ---- NOT RUN names what the stack lacks, not an image it does not need ---------------------------

POSTGRES_ONLY = RoleMap.build({}, {**{f"db-{x}": {"io.drills.role": "postgres"} for x in "abc"},
                                   **{f"etcd{i}": {"io.drills.role": "etcd"} for i in (1, 2, 3)}})
POSTGRES_ONLY_SERVICES = ("db-a", "db-b", "db-c", "etcd1", "etcd2", "etcd3")
IMAGE_ABSENT = "image mongo:7 absent on this machine (`drill doctor` says how to get it)"


def postgres_only_stack() -> ComposeProject:
    """stacks/examples/postgres-only as `ComposeProject.create` makes it: its roles by labels alone."""
    definition = load_stack(Path(__file__).resolve().parents[2] / "stacks" / "examples" / "postgres-only")
    return reference_stack(definition=definition, roles=POSTGRES_ONLY, left_out={})


def load_stack(path: Path):
    from drills.files.stack_file import load_stack as load

    return load(path, ())


def test_on_a_stack_without_mongodb_its_drills_are_not_run_for_the_role_not_the_image():
    stack = postgres_only_stack()
    mongo = load_scenario(next(p for p in SCENARIOS if p.stem == "mongo-primary-kill"))
    why = absent_on_stack(mongo, stack, POSTGRES_ONLY_SERVICES, IMAGE_ABSENT)
    assert why == f"stack postgres-only ({PROJECT}) has no mongo role (it declares etcd, postgres)"
    assert lacked_roles(mongo, stack, POSTGRES_ONLY_SERVICES) == ["mongo"]


def test_on_a_stack_with_mongodb_an_absent_image_is_what_is_said():
    """The reference stack has the MongoDB role (in its profile left out for want of the image):
    the image is what would bring it, so the image is named, and the stack lacks nothing."""
    stack = reference_stack()
    mongo = load_scenario(next(p for p in SCENARIOS if p.stem == "mongo-primary-kill"))
    assert absent_on_stack(mongo, stack, defined_services(()), IMAGE_ABSENT) == IMAGE_ABSENT
    assert lacked_roles(mongo, stack, defined_services(())) == []
    assert lacked_roles(mongo, reference_stack(left_out={}), defined_services((MONGO_IMAGE.profile,))) == []


def test_the_roles_a_stack_lacks_are_named_together_with_those_it_has():
    stack = postgres_only_stack()
    lost = load_scenario(next(p for p in SCENARIOS if p.stem == "microservices-lost"))
    why = absent_on_stack(lost, stack, POSTGRES_ONLY_SERVICES)
    assert why.startswith("stack postgres-only (drills-nomongo) has no ") and why.endswith(
        " role (it declares etcd, postgres)")
    assert " or " in why, why  # several roles lacked: `a, b or c role`
    assert set(lacked_roles(lost, stack, POSTGRES_ONLY_SERVICES)) >= set(needed_groups(lost))


def test_a_stack_declaring_no_role_says_which_services_it_has():
    stack = reference_stack(roles=RoleMap.build({}, {}), left_out={})
    partition = load_scenario(next(p for p in SCENARIOS if p.stem == "rabbitmq-node-partition"))
    assert absent_on_stack(partition, stack, ("db1", "db2")).endswith(
        "has no rabbitmq role (it declares no role; its services: db1, db2)")


GROUPS = ("postgres", "etcd", "rabbitmq", "mongo", "dashboard", "worker", "balancer", "clients", "http")


@given(st.sampled_from(SCENARIOS), st.sets(st.sampled_from(GROUPS)), st.booleans())
def test_a_not_run_reason_names_a_lacking_role_before_an_image_and_never_an_image_for_a_role_it_lacks(
        path, has, image_here):
    """Whatever roles a stack has: a scenario needing one it lacks is NOT RUN naming that role and
    the roles it has, never the image; the image is named only where the stack has every role the
    scenario needs; what the journal records as lacking is exactly the roles missing."""
    from drills.run.stack_fit import needed_groups
    from drills.workload.registry import KINDS

    full = reference_stack(left_out={}).settings.roles
    roles = RoleMap({g: services for g, services in full.roles.items() if g in has})
    defined = tuple(sorted({s for services in roles.roles.values() for s in services}))
    stack = reference_stack(roles=roles, left_out={})
    scenario = load_scenario(path)
    image = "" if image_here or "mongo:7" not in scenario.requires else IMAGE_ABSENT
    why = absent_on_stack(scenario, stack, defined, image)
    lacking = [g for g in needed_groups(scenario) if not roles.members(g, defined)]
    if lacking:
        has_text = f"it declares {', '.join(sorted(roles.roles))}" if roles.roles else \
            "it declares no role; its services: none"
        assert "image" not in why and why.endswith(f" role ({has_text})")
        assert all(g in why for g in lacking)
    elif image:
        assert why == image
    signal_groups = {r.partition(".")[0].partition("[")[0] for name in scenario.workload
                     for r in KINDS[name].needs()}
    expected = sorted(g for g in set(needed_groups(scenario)) | signal_groups if not roles.members(g, defined))
    assert lacked_roles(scenario, stack, defined) == expected
