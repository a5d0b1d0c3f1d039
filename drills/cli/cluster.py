"""CLI: `drill cluster up|status|down` (the work lives in `drills.cluster`)."""

from __future__ import annotations

import sys
import time

import click

BASE_IMAGE = "drills/base:bookworm"  # what `drill setup` builds; the integration test runs it on the nodes


@click.group()
def cluster() -> None:
    """A test cluster on this machine: Docker daemons in network namespaces, joined in one swarm.

    \b
    drill cluster up --nodes 3   build it (or complete it: idempotent), load images into every node
    drill cluster status         per node: daemon, swarm role and state, images
    drill cluster down           remove everything `up` created, also after a crashed `up`
    """


@cluster.command()
@click.option("--nodes", "count", default=3, show_default=True, type=click.IntRange(1, 9),
              help="How many nodes (one dockerd each); node 1 is the swarm's manager.")
@click.option("--images", "references", multiple=True, metavar="IMAGE",
              help=f"An image of the main engine to load into every node (repeatable; default {BASE_IMAGE}).")
@click.option("--subnet", default=None, metavar="CIDR",
              help="The nodes' subnet on the bridge (default 10.213.0.0/24); must overlap no network in use.")
def up(count: int, references: tuple[str, ...], subnet: str | None) -> None:
    """Build the cluster: bridge, namespaces, daemons, swarm, images. Run as root."""
    from drills.cluster import lifecycle
    from drills.provision.progress import ConsoleReporter

    t0 = time.monotonic()
    reporter = ConsoleReporter()
    built = lifecycle.up(count, list(references) or [BASE_IMAGE], subnet, reporter)
    reporter.ok(f"cluster of {len(built.nodes)} node(s) ready in {time.monotonic() - t0:.1f} s; "
                f"reach node 1 with: docker -H {built.manager.host} node ls")


@cluster.command()
def status() -> None:
    """Per node: daemon up, swarm role and state, images loaded. Exit 0 only when every node is up
    and in the swarm."""
    from drills.cluster import lifecycle

    record, nodes = lifecycle.status()
    if record is None:
        left = lifecycle.remnants()
        if left:
            click.echo(f"no cluster recorded here, but parts of one are: {', '.join(left)} "
                       "(remove them with `drill cluster down`)")
        else:
            click.echo("no cluster here (build one with `drill cluster up`)")
        sys.exit(1)
    click.echo(f"subnet {record.subnet}, overlay pool {record.pool}")
    click.echo(f"{'node':8} {'address':12} {'daemon':7} {'role':8} {'swarm':16} images")
    healthy = bool(nodes)
    for n in nodes:
        missing = [i for i in record.images if i not in n.images]
        shown = ", ".join(n.images) + (f" (missing: {', '.join(missing)})" if missing else "")
        click.echo(f"{n.node.name:8} {n.node.address:12} {'up' if n.daemon_up else 'DOWN':7} {n.role:8} "
                   f"{n.swarm_state:16} {shown or '-'}")
        healthy = healthy and n.daemon_up and n.swarm_state.startswith("active") and not missing
    if not healthy:
        click.echo("not all nodes are up and in the swarm: `drill cluster up` completes it")
    sys.exit(0 if healthy else 1)


@cluster.command()
def down() -> None:
    """Remove the cluster: daemons, their data and exec roots, sockets, pidfiles, namespaces, veths,
    the bridge and the iptables rules tagged drills-cluster; also what a crashed `up` left."""
    from drills.cluster import lifecycle
    from drills.provision.progress import ConsoleReporter

    t0 = time.monotonic()
    reporter = ConsoleReporter()
    removed = lifecycle.down(reporter)
    if removed:
        reporter.ok(f"cluster removed in {time.monotonic() - t0:.1f} s ({len(removed)} item(s))")
    else:
        reporter.ok("no cluster here: nothing to remove")
