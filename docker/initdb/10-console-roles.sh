#!/bin/sh
# Runs once, when the postgres image initialises an empty data volume, as the
# superuser: the console's database and its two roles (README: Database roles).
#   console_owner    owns the database and the schema: migrates, grants, prunes
#   console_runtime  what the console serves as: granted by 'console db grant'
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner_password="$CONSOLE_OWNER_PASSWORD" -v runtime_password="$CONSOLE_RUNTIME_PASSWORD" <<'SQL'
CREATE ROLE console_owner LOGIN PASSWORD :'owner_password';
CREATE ROLE console_runtime LOGIN PASSWORD :'runtime_password';
CREATE DATABASE console OWNER console_owner;
SQL
