"""A test cluster on this machine: Docker daemons in network namespaces, joined in one swarm.

`drill cluster up` builds it, `drill cluster status` shows it, `drill cluster down` removes it. Each
node is a dockerd started in its own network namespace (`nsenter --net`, not `ip netns exec`, which
remounts /sys and leaves dockerd without a devices cgroup), wired by a veth pair into a host bridge
that has no address: the nodes reach each other and nothing else. Images come from the main engine
(`docker save | docker load`); the nodes never pull.

    plan      what `up` creates for N nodes: names, addresses, the subnet (pure)
    state     the record of what was created, written before each creation (crash-safe)
    commands  running `ip`, `iptables`, `docker` with argument lists, errors that say what to do
    netns     bridge, namespaces, veth pairs, the FORWARD rule tagged `drills-cluster`
    daemon    one namespaced dockerd: start detached, wait for its socket, stop, sweep its leftovers
    swarm     init on node 1, join the others over the bridge, the node list
    images    load images from the main engine, skipped where the image ID is already there
    lifecycle up, status, down: the steps above in order, with progress
"""
