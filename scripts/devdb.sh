#!/usr/bin/env bash
# devdb.sh — the project's private PostgreSQL cluster under .data/pg.
#   scripts/devdb.sh start        create (first time) and start it, with the
#                                 database "console" owned by the role console_owner
#                                 and the role console_runtime; prints nothing else
#   scripts/devdb.sh stop         stop it
#   scripts/devdb.sh url          print the DATABASE_URL of the console database: the
#                                 runtime role console_runtime, which console serve uses
#   scripts/devdb.sh migrate-url  print its CONSOLE_MIGRATE_DATABASE_URL: the owner
#                                 console_owner, which migrates and grants the runtime role
#   scripts/devdb.sh test-url     print the superuser URL the tests create databases with
#   scripts/devdb.sh reset        stop it and delete its data
# It listens on 127.0.0.1:${CONSOLE_PG_PORT:-5499} only, with trust auth for
# local connections: a development and test cluster, never a production one.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
data="$root/.data"
pgdata="$data/pg"
port="${CONSOLE_PG_PORT:-5499}"
log="$data/pg.log"

find_bin() {
  local d
  for d in ${PG_BINDIR:-} $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return 0; fi
  return 1
}

ensure_bin() {
  if bindir=$(find_bin); then return 0; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "devdb: PostgreSQL server binaries not found; installing the Debian package 'postgresql'" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    bindir=$(find_bin) && return 0
  fi
  echo "devdb: PostgreSQL server binaries not found. Install them (Debian/Ubuntu: 'sudo apt-get install postgresql'," >&2
  echo "       macOS: 'brew install postgresql@15') or set DATABASE_URL to an existing database." >&2
  exit 1
}

# as_pg runs a command as the cluster's owner: postgres when we are root
# (PostgreSQL refuses to run as root), ourselves otherwise.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    # From /: postgres may not be allowed into the current directory.
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# When the checkout lies where the postgres user cannot reach (a home
# directory with mode 700, say), keep the cluster under /var/tmp instead.
if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then
  mkdir -p "$data"
  if ! (cd / && runuser -u postgres -- test -x "$data") 2>/dev/null; then
    pgdata="/var/tmp/zego-console-pg-$(echo -n "$root" | sha256sum | cut -c1-12)"
    log="$pgdata.log"
  fi
fi

running() { [ -f "$pgdata/postmaster.pid" ] && as_pg "$bindir/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; }

start() {
  ensure_bin
  mkdir -p "$data"
  if [ "$(id -u)" = 0 ]; then
    # postgres must own the cluster's directory and its log.
    mkdir -p "$(dirname "$pgdata")"
    chown postgres: "$data"
    if [ "$(dirname "$pgdata")" != "$data" ]; then mkdir -p "$pgdata" && chown postgres: "$pgdata"; fi
    touch "$log" && chown postgres: "$log"
  fi
  if [ ! -f "$pgdata/PG_VERSION" ]; then
    as_pg "$bindir/initdb" -D "$pgdata" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >>"$pgdata/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = ''
max_connections = 300
shared_buffers = 256MB
synchronous_commit = on
fsync = on
log_min_messages = warning
CONF
  fi
  if ! running; then
    as_pg "$bindir/pg_ctl" -D "$pgdata" -l "$log" -w -t 60 start >/dev/null
  fi
  sql postgres <<'SQL'
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'console_owner') THEN CREATE ROLE console_owner LOGIN; END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'console_runtime') THEN CREATE ROLE console_runtime LOGIN; END IF;
END;
$$;
SQL
  local owner
  owner=$(sql postgres <<<"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'console'")
  if [ -z "$owner" ]; then
    sql postgres <<<"CREATE DATABASE console OWNER console_owner" >/dev/null
  elif [ "$owner" != console_owner ]; then
    # A database from before the two roles, which the superuser made and
    # migrated: hand it and what the migrations made to console_owner.
    sql postgres <<<"ALTER DATABASE console OWNER TO console_owner"
    sql console <<'SQL'
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT c.oid::regclass AS name FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND c.relowner <> 'console_owner'::regrole
    LOOP
        EXECUTE format('ALTER TABLE %s OWNER TO console_owner', r.name);
    END LOOP;
    FOR r IN SELECT p.oid::regprocedure AS name FROM pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace AND p.proowner <> 'console_owner'::regrole
            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO console_owner', r.name);
    END LOOP;
END;
$$;
SQL
  fi
}

# sql DB: runs the SQL on stdin in database DB as the superuser.
sql() {
  as_pg "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -d "$1" -v ON_ERROR_STOP=1 -qtAX
}

case "${1:-}" in
  start) start ;;
  stop) ensure_bin; if running; then as_pg "$bindir/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null; fi ;;
  url) echo "postgres://console_runtime@127.0.0.1:$port/console?sslmode=disable" ;;
  migrate-url) echo "postgres://console_owner@127.0.0.1:$port/console?sslmode=disable" ;;
  test-url) echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable" ;;
  bindir) ensure_bin; echo "$bindir" ;;
  reset) ensure_bin; if running; then as_pg "$bindir/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null; fi; rm -rf "$pgdata" ;;
  *) echo "usage: $0 start|stop|url|migrate-url|test-url|bindir|reset" >&2; exit 2 ;;
esac
