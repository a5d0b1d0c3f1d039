"""The stack under test: compose project lifecycle, topology, readiness.

    env.py         project name, secrets, the variables the stack's Compose files read (pure)
    subnets.py     a free /24 per run
    ports.py       host ports picked per run, stable across container restarts
    override.py    Drills' own Compose override: the host ports it reaches that the stack's files
                   do not publish (pure)
    network.py     the network the components share (from the Compose model) and its live gateway
    build.py       the stack's own images (`build:`), built before its boot is timed
    project.py     ComposeProject: up, wait until ready, down; what faults act on
    removal.py     remove a project by its label: containers, networks, volumes, records
    presence.py    which projects exist; which services of a saved stack have no container
    state.py       a stack's saved settings, between commands
    services.py    the project's containers as one Docker API call sees them
    roles.py       which services a role's group names here (the grammar: drills.core.roles) (pure)
    topology.py    roles -> services, asking Patroni, RabbitMQ and MongoDB who leads now
    readiness.py   one wait per component, each by its own bar (as wait strategies: drills.core.wait)
    status.py      everything `drill stack status` shows
    effective.py   the configuration drilled, read back from the running stack (the record:
                   drills.core.effective_config; its readers, one per part: effective_sources.py
                   runs the registry's; in words:
                   effective_text.py)
    postgres.py, rabbitmq.py, mongo.py, loadbalancer.py   per-component probes (their JSON over
                   HTTP: drills.components.httpjson)
    located.py     AtField: a stack file's mistake found across fields, with the field to point at
    swarm_spec.py  the stack file's `backend: swarm` section: nodes, placement, spread (pure)
    swarm_translate.py  the Compose model made a `docker stack deploy` file: one replica per
                   service on its node, dnsrr, attachable overlays; what Swarm cannot run refused (pure)
    swarm_tasks.py a swarm stack's tasks with their node and container, from the manager's output (pure)
    swarm_events.py  Swarm's restarts and reschedules, from its task history, as system events (pure)
    swarm_project.py  SwarmProject: deploy, wait until every task runs, a client per node, remove
    live.py        the stack as a component adapter sees it (drills.components.base.Live), for the
                   status and effective reads, until ComposeProject is one

Which Compose binary runs is provisioning's (`drills.provision.compose`); the `drill stack`
commands are in `drills.cli.stack`, above this package.
"""

from drills.core.roles import RoleRef, parse_role
from drills.stack.env import Secrets, StackSettings
from drills.stack.project import ComposeProject, UpReport

__all__ = [
    "ComposeProject",
    "RoleRef",
    "Secrets",
    "StackSettings",
    "UpReport",
    "parse_role",
]
