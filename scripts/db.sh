#!/usr/bin/env bash
# The persistent local cluster for development: start | stop | status.
# PostgreSQL refuses to run as root, so as root the server runs as the postgres
# user, with its data where that user can reach it.
set -euo pipefail
cd "$(dirname "$0")/.."

DB_PORT=${DB_PORT:-54329}
DB_NAME=${DB_NAME:-trader}
PGBIN=/usr/lib/postgresql/15/bin

as_server=()
if [ "$(id -u)" -eq 0 ]; then
    as_server=(runuser -u postgres --)
    if [ -z "${DB_DIR:-}" ]; then
        # A repo under a mode-700 home is out of the postgres user's reach.
        if runuser -u postgres -- test -x "$PWD"; then
            DB_DIR=$PWD/.pgdata
        else
            DB_DIR=/var/tmp/trader-module-$(printf %s "$PWD" | md5sum | cut -c1-8)/pgdata
        fi
    fi
fi
DB_DIR=${DB_DIR:-$PWD/.pgdata}

server() { "${as_server[@]}" "$@"; }
psql_admin() { psql -X -h localhost -p "$DB_PORT" -U postgres "$@"; }

case "${1:-}" in
start)
    if [ ! -f "$DB_DIR/PG_VERSION" ]; then
        mkdir -p "$DB_DIR"
        [ "${#as_server[@]}" -eq 0 ] || chown postgres: "$DB_DIR"
        chmod 700 "$DB_DIR"
        server "$PGBIN/initdb" -D "$DB_DIR" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
        server tee -a "$DB_DIR/postgresql.conf" >/dev/null <<CONF
# trader module: local development cluster (trust on localhost only)
listen_addresses = 'localhost'
port = $DB_PORT
unix_socket_directories = '$DB_DIR'
shared_preload_libraries = 'pg_cron'
cron.database_name = '$DB_NAME'
cron.use_background_workers = on
max_worker_processes = 16
CONF
        echo "db: initialized $DB_DIR"
    fi
    # The cluster keeps the port it was made with: a different DB_PORT would point
    # every other target at a server that is not there.
    made_port=$(sed -n "s/^port = \([0-9]*\).*/\1/p" "$DB_DIR/postgresql.conf" | tail -1)
    if [ -n "$made_port" ] && [ "$made_port" != "$DB_PORT" ]; then
        echo "db: the cluster in $DB_DIR listens on port $made_port, not DB_PORT=$DB_PORT; use DB_PORT=$made_port, or DB_DIR=... for a second cluster" >&2
        exit 2
    fi
    if server "$PGBIN/pg_ctl" -D "$DB_DIR" status >/dev/null 2>&1; then
        echo "db: already running on localhost:$DB_PORT ($DB_DIR)"
    else
        server "$PGBIN/pg_ctl" -D "$DB_DIR" -l "$DB_DIR/server.log" -w -s start
        echo "db: running on localhost:$DB_PORT ($DB_DIR)"
    fi
    if [ "$(psql_admin -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" != 1 ]; then
        createdb -h localhost -p "$DB_PORT" -U postgres "$DB_NAME"
        echo "db: created database $DB_NAME"
    fi
    ;;
stop)
    if [ -f "$DB_DIR/PG_VERSION" ] && server "$PGBIN/pg_ctl" -D "$DB_DIR" status >/dev/null 2>&1; then
        server "$PGBIN/pg_ctl" -D "$DB_DIR" -w -s -m fast stop
        echo "db: stopped"
    else
        echo "db: not running"
    fi
    ;;
status)
    server "$PGBIN/pg_ctl" -D "$DB_DIR" status || true
    ;;
*)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
