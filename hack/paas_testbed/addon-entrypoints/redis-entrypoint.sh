#!/bin/sh
# The testbed's Redis image: Debian's redis-server; with no arguments it requires REDIS_PASSWORD.
set -eu
if [ "${1:-}" = redis-server ]; then
    shift
    exec /usr/bin/redis-server "$@"
fi
: "${REDIS_PASSWORD:?REDIS_PASSWORD must be set}"
exec /usr/bin/redis-server --requirepass "$REDIS_PASSWORD" --dir /data --appendonly yes "$@"
