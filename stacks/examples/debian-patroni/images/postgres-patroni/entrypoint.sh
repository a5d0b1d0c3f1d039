#!/bin/bash
# Start one orders database node: Patroni (which runs PostgreSQL) as the postgres user.
#
# The passwords are Compose secrets (/run/secrets/*); Patroni gets them in its environment, never
# in a file of the image or in the container's configuration. PATRONI_NAME comes from compose.yaml.
set -euo pipefail

secret() {  # secret NAME: the first line of /run/secrets/NAME
    local file=/run/secrets/$1
    [[ -r $file ]] || { echo "orders-db: secret $1 missing: add it to the service's secrets: in compose.yaml" >&2; exit 64; }
    # Compose creates a secret whose variable is unset as an empty file: never start with an empty password.
    [[ -s $file ]] || { echo "orders-db: secret $1 is empty: set its variable (compose.yaml, secrets:) for docker compose up" >&2; exit 64; }
    head -n 1 "$file"
}

: "${PATRONI_NAME:?set PATRONI_NAME (the Patroni member name) in the service environment}"
address=$(hostname -i | awk '{print $1}')
export PATRONI_RESTAPI_CONNECT_ADDRESS="${address}:8008"
export PATRONI_POSTGRESQL_CONNECT_ADDRESS="${address}:5432"
PATRONI_SUPERUSER_PASSWORD=$(secret orders_dba_password)
PATRONI_REPLICATION_PASSWORD=$(secret orders_repl_password)
export PATRONI_SUPERUSER_PASSWORD PATRONI_REPLICATION_PASSWORD

# A new, empty volume (first start, or a node replaced) gets the directories PostgreSQL expects.
install -d -o postgres -g postgres -m 0755 /var/lib/postgresql /var/lib/postgresql/15
install -d -o postgres -g postgres -m 0700 /var/lib/postgresql/15/main
install -d -o postgres -g postgres -m 2775 /var/run/postgresql
install -d -o postgres -g postgres -m 0700 /run/orders-db
# The application's password, for post-bootstrap (run by Patroni as postgres) only.
secret orders_app_password > /run/orders-db/app_password
chown postgres:postgres /run/orders-db/app_password
chmod 0400 /run/orders-db/app_password

exec setpriv --reuid=postgres --regid=postgres --init-groups env HOME=/var/lib/postgresql \
    patroni /etc/patroni/orders.yml
