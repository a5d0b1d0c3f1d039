"""The specs of the stack file's `components:` entries whose adapters have not moved into this
package yet (Patroni's PostgreSQL, etcd, RabbitMQ, MongoDB, HAProxy), and the base every
PostgreSQL manager's spec extends, under names that say no software: the stack layer and the
signals import them from here to read an entry's fields (`StackDefinition.component(key, model)`),
and so spell no component's name. Each goes when its adapter declares it (plans, phase C).

Beside them, the one reader of the balancer's stats page (`read_stats`, its rows `Backend`), which
`drill stack status` shows for a balancer without an adapter (HAProxy's; plans, C-H1).
"""

from __future__ import annotations

from drills.components._etcd_spec import EtcdSpec
from drills.components._haproxy_spec import Balancer, HttpSpec
from drills.components._haproxy_stats import Backend, parse_stats, read_stats
from drills.components._mongo_spec import MongoSpec
from drills.components._patroni_spec import PostgresSpec
from drills.components._postgres_spec import PostgresBase
from drills.components._rabbitmq_spec import RabbitmqSpec

__all__ = ["Backend", "Balancer", "EtcdSpec", "HttpSpec", "MongoSpec", "PostgresBase", "PostgresSpec", "RabbitmqSpec",
           "parse_stats", "read_stats"]
