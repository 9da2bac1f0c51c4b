#!/usr/bin/env bash
# Start (or reuse) a throwaway PostgreSQL 15 cluster for the ScaiKey test suite.
#
#   tools/postgres/start-test-server.sh
#
# Environment:
#   PGPORT_TEST      TCP port (default 54329); listens on 127.0.0.1 only
#   PGDATA_TEST      data directory (default /tmp/scaikey-pg-$PGPORT_TEST)
#   PG_BIN           PostgreSQL binaries (default /usr/lib/postgresql/15/bin)
#
# The cluster is tuned for tests, NOT for data safety (fsync=off,
# synchronous_commit=off, full_page_writes=off). It has a superuser role
# `scaikey` / password `scaikey`; TCP connections use scram-sha-256.
#
# Idempotent: if the cluster in the data dir is already running on the port it
# is reused; a stopped cluster is restarted; a missing one is created.
# Progress goes to stderr. The ONLY line on stdout is the ADO.NET connection
# string (so both `$(start-test-server.sh)` and `... | tail -n1` work):
#   Host=127.0.0.1;Port=54329;Username=scaikey;Password=scaikey;Database=postgres
set -euo pipefail

PORT="${PGPORT_TEST:-54329}"
DATA="${PGDATA_TEST:-/tmp/scaikey-pg-${PORT}}"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_MAJOR=15
PG_OS_USER=postgres
ROLE=scaikey
ROLE_PASSWORD=scaikey
LOG="${DATA}/log/postgres.log"

log() { printf '[pg-test] %s\n' "$*" >&2; }
die() { printf '[pg-test] ERROR: %s\n' "$*" >&2; exit 1; }

[[ "$PORT" =~ ^[0-9]+$ ]] || die "PGPORT_TEST must be a number, got '$PORT'"
[[ "$DATA" = /* ]] || die "PGDATA_TEST must be an absolute path, got '$DATA'"

# --- run a command as the postgres OS user ---------------------------------
as_pg() {
    if [[ "$(id -un)" == "$PG_OS_USER" ]]; then
        (cd / && "$@")
    elif [[ "$(id -u)" == 0 ]]; then
        # cd / so the server/tools don't complain about an unreadable cwd.
        (cd / && runuser -u "$PG_OS_USER" -- "$@")
    else
        die "must run as root or as the '$PG_OS_USER' user (running as $(id -un))"
    fi
}

# --- make sure PostgreSQL 15 is installed ------------------------------------
if [[ ! -x "$PG_BIN/initdb" ]]; then
    [[ "$(id -u)" == 0 ]] || die "$PG_BIN/initdb missing and not root; install postgresql-$PG_MAJOR"
    log "PostgreSQL binaries not found in $PG_BIN; installing via apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    apt-get install -y -q --no-install-recommends postgresql >&2
    [[ -x "$PG_BIN/initdb" ]] || die "apt-get install postgresql did not provide $PG_BIN/initdb (wrong Debian release?)"
fi
id "$PG_OS_USER" >/dev/null 2>&1 || die "OS user '$PG_OS_USER' does not exist"

PSQL_LOCAL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$DATA" -p "$PORT" -U postgres -d postgres)

# --- data dir parent must be writable by postgres ----------------------------
PARENT="$(dirname "$DATA")"
if [[ ! -d "$PARENT" ]]; then
    mkdir -p "$PARENT"
    [[ "$(id -u)" == 0 ]] && chown "$PG_OS_USER:" "$PARENT"
fi
if ! as_pg test -w "$PARENT" -a -x "$PARENT"; then
    if [[ "$(id -u)" == 0 && "$PARENT" != "/" && "$PARENT" != "/tmp" ]]; then
        log "making $PARENT writable by $PG_OS_USER"
        chown "$PG_OS_USER:" "$PARENT"
    fi
    as_pg test -w "$PARENT" -a -x "$PARENT" || die "$PARENT is not writable by $PG_OS_USER"
fi

is_running() { as_pg "$PG_BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

# A postmaster killed with SIGKILL can linger as a zombie (containers whose
# PID 1 reaps lazily); pg_ctl and the postmaster itself then think it is still
# alive. Treat such a postmaster.pid as stale and remove it.
if [[ -f "$DATA/postmaster.pid" ]]; then
    old_pid="$(head -n1 "$DATA/postmaster.pid" 2>/dev/null || true)"
    if [[ "$old_pid" =~ ^[0-9]+$ ]] \
        && [[ "$(awk '{print $3}' "/proc/$old_pid/stat" 2>/dev/null)" == Z ]]; then
        log "removing stale postmaster.pid (PID $old_pid is a zombie)"
        rm -f "$DATA/postmaster.pid" "$DATA/.s.PGSQL.$PORT.lock"
    fi
fi

# --- refuse to clash with a foreign server on the port -----------------------
if ! is_running; then
    set +e
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -t 2
    rc=$?
    set -e
    # 0 = accepting, 1 = rejecting (starting up): someone else owns the port.
    if [[ $rc == 0 || $rc == 1 ]]; then
        die "a server is already listening on 127.0.0.1:$PORT but not from $DATA; stop it or set PGPORT_TEST"
    fi
fi

# --- initdb if needed ----------------------------------------------------------
if [[ -f "$DATA/PG_VERSION" ]]; then
    ver="$(cat "$DATA/PG_VERSION")"
    [[ "$ver" == "$PG_MAJOR" ]] || die "$DATA holds a PostgreSQL $ver cluster, expected $PG_MAJOR; remove it (tools/postgres/stop-test-server.sh --clean)"
else
    if [[ -d "$DATA" ]] && [[ -n "$(ls -A "$DATA" 2>/dev/null)" ]]; then
        die "$DATA exists, is not empty and is not a PostgreSQL cluster; remove it or set PGDATA_TEST"
    fi
    log "initdb $DATA"
    mkdir -p "$DATA"
    chown "$PG_OS_USER:" "$DATA" 2>/dev/null || true
    chmod 700 "$DATA"
    # Local (unix socket, inside the 0700 data dir) = trust, TCP = scram.
    as_pg "$PG_BIN/initdb" -D "$DATA" -U postgres -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 --no-instructions --no-sync >&2 \
        || die "initdb failed"
    echo "include_if_exists = 'scaikey-test.conf'" | as_pg tee -a "$DATA/postgresql.conf" >/dev/null
fi

# Test-only settings (rewritten each start; effective at next server start).
as_pg tee "$DATA/scaikey-test.conf" >/dev/null <<EOF
# Written by tools/postgres/start-test-server.sh -- throwaway test server.
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DATA'
max_connections = 300
shared_buffers = 128MB
fsync = off
synchronous_commit = off
full_page_writes = off
password_encryption = 'scram-sha-256'
log_min_messages = warning
log_min_error_statement = error
EOF
as_pg tee "$DATA/pg_hba.conf" >/dev/null <<'EOF'
# Written by tools/postgres/start-test-server.sh -- throwaway test server.
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  trust
host    all       all   127.0.0.1/32   scram-sha-256
EOF
as_pg mkdir -p "$(dirname "$LOG")"

# --- start ------------------------------------------------------------------------
if is_running; then
    log "reusing running server ($DATA, port $PORT)"
    # Pick up pg_hba changes without a restart (harmless if unchanged).
    as_pg "$PG_BIN/pg_ctl" -D "$DATA" reload >/dev/null 2>&1 || true
else
    log "starting server ($DATA, port $PORT, log $LOG)"
    if ! as_pg "$PG_BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >&2; then
        tail -n 30 "$LOG" >&2 2>/dev/null || true
        die "pg_ctl start failed"
    fi
fi

# --- wait for TCP readiness ----------------------------------------------------------
ready=0
for _ in $(seq 1 60); do
    if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -t 2; then ready=1; break; fi
    sleep 0.5
done
[[ $ready == 1 ]] || { tail -n 30 "$LOG" >&2 2>/dev/null || true; die "server not accepting connections on 127.0.0.1:$PORT"; }

# --- role (idempotent) ---------------------------------------------------------------
as_pg "${PSQL_LOCAL[@]}" >/dev/null <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN
    CREATE ROLE $ROLE LOGIN SUPERUSER CREATEDB CREATEROLE PASSWORD '$ROLE_PASSWORD';
  ELSE
    ALTER ROLE $ROLE LOGIN SUPERUSER CREATEDB CREATEROLE PASSWORD '$ROLE_PASSWORD';
  END IF;
END
\$\$;
SQL

# --- sanity check over TCP with password auth ----------------------------------------
PGPASSWORD="$ROLE_PASSWORD" "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 \
    "host=127.0.0.1 port=$PORT user=$ROLE dbname=postgres connect_timeout=10" \
    -c 'select 1' >/dev/null || die "cannot connect as $ROLE over TCP"

log "ready: PostgreSQL $("$PG_BIN/postgres" -V | awk '{print $3}') on 127.0.0.1:$PORT (data $DATA)"
echo "Host=127.0.0.1;Port=${PORT};Username=${ROLE};Password=${ROLE_PASSWORD};Database=postgres"
