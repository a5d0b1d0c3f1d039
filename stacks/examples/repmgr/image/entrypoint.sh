#!/bin/bash
# Start one ledger database node: PostgreSQL 15 with repmgrd, as the postgres user.
#
# The passwords are Compose secrets (/run/secrets/*); repmgr reads its own from ~/.pgpass, written
# here on every start (a node whose disk was lost gets it again). NODE_ID, NODE_NAME and PEERS come
# from compose.yaml. What the node does depends on what its data directory holds:
#   empty, node 1, no primary among the peers   initdb, roles and databases, `repmgr primary register`
#   empty otherwise                              wait for a primary, `repmgr standby clone` from it, register
#   a former primary, another primary running    `repmgr node rejoin --force-rewind` (re-clone if that fails)
#   a standby                                    start, and follow the current primary
#   anything else                                start as it was
# then runs repmgrd in the foreground (automatic failover), whose log is the container's.
set -euo pipefail

secret() {  # secret NAME: the first line of /run/secrets/NAME
    local file=/run/secrets/$1
    [[ -r $file ]] || { echo "ledger-db: secret $1 missing: add it to the service's secrets: in compose.yaml" >&2; exit 64; }
    [[ -s $file ]] || { echo "ledger-db: secret $1 is empty: set its variable (compose.yaml, secrets:) for docker compose up" >&2; exit 64; }
    head -n 1 "$file"
}

if [[ $(id -u) == 0 ]]; then
    : "${NODE_ID:?set NODE_ID (repmgr's node_id) in the service environment}"
    : "${NODE_NAME:?set NODE_NAME (repmgr's node_name) in the service environment}"
    install -d -o postgres -g postgres -m 0755 /var/lib/postgresql /var/lib/postgresql/15
    install -d -o postgres -g postgres -m 0700 /var/lib/postgresql/15/main /run/ledger-db
    install -d -o postgres -g postgres -m 2775 /var/run/postgresql
    umask 077
    printf '*:*:*:repmgr:%s\n*:*:replication:repmgr:%s\n' "$(secret ledger_repmgr_password)" \
        "$(secret ledger_repmgr_password)" > /var/lib/postgresql/.pgpass
    secret ledger_dba_password > /run/ledger-db/dba_password
    secret ledger_repmgr_password > /run/ledger-db/repmgr_password
    secret ledger_app_password > /run/ledger-db/app_password
    chown postgres:postgres /var/lib/postgresql/.pgpass /run/ledger-db/*
    umask 022
    cat > /etc/repmgr.conf <<CONF
node_id=${NODE_ID}
node_name='${NODE_NAME}'
conninfo='host=$(hostname) port=5432 user=repmgr dbname=repmgr connect_timeout=2'
data_directory='/var/lib/postgresql/15/main'
pg_bindir='/usr/lib/postgresql/15/bin'
use_replication_slots=yes
log_facility='STDERR'
log_level='INFO'
failover='automatic'
promote_command='/usr/lib/postgresql/15/bin/repmgr standby promote -f /etc/repmgr.conf'
follow_command='/usr/lib/postgresql/15/bin/repmgr standby follow -f /etc/repmgr.conf --upstream-node-id=%n'
monitor_interval_secs=1
reconnect_attempts=${RECONNECT_ATTEMPTS:-3}
reconnect_interval=${RECONNECT_INTERVAL:-2}
connection_check_type='ping'
repmgrd_pid_file='/run/ledger-db/repmgrd.pid'
CONF
    chown postgres:postgres /etc/repmgr.conf
    exec setpriv --reuid=postgres --regid=postgres --init-groups env HOME=/var/lib/postgresql "$0" "$@"
fi

PGDATA=/var/lib/postgresql/15/main
CONF=/etc/repmgr.conf
export PGCONNECT_TIMEOUT=2
me=$(hostname)
log() { echo "ledger-db[$me]: $*" >&2; }

pg_start() { pg_ctl -D "$PGDATA" -w -t 60 start; }  # its log: this process's output, the container's

is_primary() {  # is_primary HOST: the node at HOST answers that it is a writable primary
    [[ $(psql "host=$1 user=repmgr dbname=repmgr" -Atc "SELECT NOT pg_is_in_recovery()" 2>/dev/null) == t ]]
}

find_primary() {  # a peer's host that is a primary, or nothing
    local peer
    for peer in ${PEERS:-}; do
        [[ $peer == "$me" ]] && continue
        if is_primary "$peer"; then echo "$peer"; return 0; fi
    done
    return 0
}

clone_from() {  # clone_from HOST: a fresh standby of the primary at HOST
    log "cloning from $1"
    find "$PGDATA" -mindepth 1 -delete
    repmgr -h "$1" -U repmgr -d repmgr -f "$CONF" standby clone --force --fast-checkpoint
    pg_start
    repmgr -f "$CONF" standby register --force --wait-sync=30 || repmgr -f "$CONF" standby register --force
}

bootstrap() {
    log "initdb: a new cluster"
    initdb -D "$PGDATA" -U dba --pwfile=/run/ledger-db/dba_password --auth-local=peer --auth-host=scram-sha-256 \
        --data-checksums --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    cat >> "$PGDATA/postgresql.conf" <<CONF
listen_addresses = '*'
shared_preload_libraries = 'repmgr'
wal_level = replica
wal_log_hints = on
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
wal_keep_size = 256MB
password_encryption = scram-sha-256
CONF
    cat > "$PGDATA/pg_ident.conf" <<CONF
local postgres dba
local postgres repmgr
CONF
    cat > "$PGDATA/pg_hba.conf" <<CONF
local all all peer map=local
host replication repmgr all scram-sha-256
host all all all scram-sha-256
CONF
    pg_start
    psql -U dba -d postgres -v ON_ERROR_STOP=1 -q \
        -v repmgr_pw="$(cat /run/ledger-db/repmgr_password)" -v app_pw="$(cat /run/ledger-db/app_password)" <<'SQL'
CREATE ROLE repmgr LOGIN SUPERUSER REPLICATION PASSWORD :'repmgr_pw';
CREATE DATABASE repmgr OWNER repmgr;
CREATE ROLE ledger_app LOGIN PASSWORD :'app_pw';
CREATE DATABASE ledger OWNER ledger_app;
SQL
    repmgr -f "$CONF" primary register --force
}

if [[ ! -s $PGDATA/PG_VERSION ]]; then
    primary=$(find_primary)
    if [[ -z $primary && ${NODE_ID} == 1 ]]; then
        bootstrap
    else
        until [[ -n $primary ]]; do log "waiting for a primary among: ${PEERS:-}"; sleep 2; primary=$(find_primary); done
        clone_from "$primary"
    fi
elif [[ -f $PGDATA/standby.signal ]]; then
    pg_start
    primary=$(find_primary)
    if [[ -n $primary ]]; then
        upstream=$(psql "host=$primary user=repmgr dbname=repmgr" -Atc \
            "SELECT node_id FROM repmgr.nodes WHERE type = 'primary' AND active" 2>/dev/null | head -n 1)
        [[ -n $upstream ]] && { repmgr -f "$CONF" standby follow --upstream-node-id="$upstream" || log "follow failed"; }
    fi
else
    primary=$(find_primary)
    if [[ -n $primary ]]; then
        # A former primary: another node was promoted while it was away. Crash recovery first (single
        # user: it accepts no connection, so it cannot take writes), then rewind it onto the new one.
        log "a former primary; $primary leads now: rejoining"
        postgres --single -D "$PGDATA" postgres </dev/null >/dev/null || true
        if ! repmgr -f "$CONF" node rejoin -d "host=$primary user=repmgr dbname=repmgr" --force-rewind; then
            log "rejoin failed: re-cloning from $primary"
            clone_from "$primary"
        fi
    else
        pg_start
    fi
fi

exec repmgrd -f "$CONF" --daemonize=false
