#!/usr/bin/env bash
# Stop the throwaway PostgreSQL test cluster started by start-test-server.sh.
#
#   tools/postgres/stop-test-server.sh [--clean]
#
#   --clean   also delete the data directory (next start does a fresh initdb)
#
# Same environment as start-test-server.sh (PGPORT_TEST, PGDATA_TEST, PG_BIN).
# Succeeds (exit 0) if the server is not running or the data dir is missing.
set -euo pipefail

PORT="${PGPORT_TEST:-54329}"
DATA="${PGDATA_TEST:-/tmp/scaikey-pg-${PORT}}"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_OS_USER=postgres

log() { printf '[pg-test] %s\n' "$*" >&2; }
die() { printf '[pg-test] ERROR: %s\n' "$*" >&2; exit 1; }

CLEAN=0
for arg in "$@"; do
    case "$arg" in
        --clean) CLEAN=1 ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) die "unknown argument: $arg" ;;
    esac
done

as_pg() {
    if [[ "$(id -un)" == "$PG_OS_USER" ]]; then
        (cd / && "$@")
    elif [[ "$(id -u)" == 0 ]]; then
        (cd / && runuser -u "$PG_OS_USER" -- "$@")
    else
        die "must run as root or as the '$PG_OS_USER' user"
    fi
}

if [[ -f "$DATA/PG_VERSION" && -x "$PG_BIN/pg_ctl" ]]; then
    if as_pg "$PG_BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
        log "stopping server ($DATA, port $PORT)"
        # fast = roll back open transactions and disconnect clients; fall back
        # to immediate if that does not finish in time.
        if ! as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w -t 30 stop >&2; then
            log "fast shutdown timed out; using immediate"
            as_pg "$PG_BIN/pg_ctl" -D "$DATA" -m immediate -w -t 30 stop >&2
        fi
    else
        log "server not running ($DATA)"
    fi
else
    log "no cluster at $DATA"
fi

if [[ $CLEAN == 1 && -e "$DATA" ]]; then
    # Only delete something that is clearly our cluster (or an empty dir).
    if [[ -f "$DATA/scaikey-test.conf" || -z "$(ls -A "$DATA" 2>/dev/null)" ]]; then
        log "removing $DATA"
        rm -rf -- "$DATA"
    else
        die "refusing to delete $DATA: not created by start-test-server.sh"
    fi
fi
