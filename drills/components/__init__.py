"""Components: one adapter per piece of software a stack runs (PostgreSQL under Patroni, etcd,
RabbitMQ, MongoDB, a load balancer), the fourth protocol beside faults, checkers and signals.

    base.py       the protocol: Adapter (a stack-file spec, the ports Drills reaches, and each
                  capability: readiness, roles, status, effective configuration, leaders, backups,
                  access, log patterns, requirements), Bound, and Live, all an adapter may use of a
                  running stack (drills.stack.project.ComposeProject is one)
    registry.py   every adapter, found by drills.core.discovery (ADAPTERS), and what the scenario
                  vocabulary knows of the kinds whose adapters have not moved in yet (LEGACY)
    httpjson.py   JSON over HTTP with short timeouts: the admin APIs adapters read (Patroni's REST
                  API, RabbitMQ's management API)

Every other module (or subpackage) is an adapter and declares `ADAPTER`; a name starting with `_`
is a private helper. The adapters so far:

    nginx.py      nginx as the HTTP balancer (`components.http` with `adapter: nginx`); its
                  configuration read with `nginx -T` (parsed by _nginx_conf.py)
 This package sits between drills.stack, which calls the adapters, and
drills.provision: it imports nothing of drills.stack (import-linter's `layers` contract), and an
adapter imports its drivers (docker, psycopg, pika, pymongo) inside functions only.
"""
