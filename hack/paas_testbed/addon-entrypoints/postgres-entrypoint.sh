#!/bin/sh
# The testbed's Postgres image: the upstream image's env conventions on Debian's postgresql-15.
# POSTGRES_PASSWORD (required), POSTGRES_USER (postgres), POSTGRES_DB (the user), PGDATA.
set -eu
bin=/usr/lib/postgresql/15/bin
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}"
user="${POSTGRES_USER:-postgres}"
db="${POSTGRES_DB:-$user}"
export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
mkdir -p "$PGDATA"
chmod 700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    pwfile=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
    "$bin/initdb" -D "$PGDATA" -U "$user" --pwfile="$pwfile" -E UTF8 \
        --auth-local=scram-sha-256 --auth-host=scram-sha-256
    rm -f "$pwfile"
    printf 'host all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n' \
        >> "$PGDATA/pg_hba.conf"
    if [ "$db" != postgres ]; then
        "$bin/pg_ctl" -D "$PGDATA" -w -o "-c listen_addresses='' -c unix_socket_directories=/tmp" start
        echo 'CREATE DATABASE :"db";' | PGPASSWORD="$POSTGRES_PASSWORD" \
            "$bin/psql" -h /tmp -U "$user" -d postgres -v ON_ERROR_STOP=1 -v db="$db"
        "$bin/pg_ctl" -D "$PGDATA" -w -m fast stop
    fi
fi
[ "${1:-postgres}" = postgres ] && [ $# -gt 0 ] && shift
exec "$bin/postgres" -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/tmp "$@"
