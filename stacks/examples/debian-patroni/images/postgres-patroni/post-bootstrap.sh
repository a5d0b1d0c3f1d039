#!/bin/bash
# Patroni runs this once, on the node that initialised the cluster, with a connection URL for the
# superuser (dba) as $1 and its password in PGPASSFILE: the application's role and database.
set -euo pipefail
psql --no-psqlrc -v ON_ERROR_STOP=1 -v app_password="$(cat /run/orders-db/app_password)" "$1" <<'SQL'
CREATE ROLE orders_app LOGIN PASSWORD :'app_password';
CREATE DATABASE orders OWNER orders_app;
SQL
