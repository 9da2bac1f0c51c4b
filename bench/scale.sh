#!/usr/bin/env bash
# ScaiKey at scale (issue 5): USERS users in one tenant plus TENANTS-1 tenants of OTHER_USERS users, on SQLite and on
# PostgreSQL, next to the raw baseline B1 and better-auth's S1-S3 (../shared/bench), measured in the same run.
#
#   U1  get user             GET  /api/v1/tenants/{big}/users/{id}   (random one of SAMPLE_IDS sampled ids)
#   U2  list page 1          GET  /api/v1/tenants/{big}/users?page=1&per_page=20
#   U3  list page 500        GET  /api/v1/tenants/{big}/users?page=500&per_page=20
#   U4  search               GET  /api/v1/tenants/{big}/users?search=<term matching ~1 %>&per_page=20
#   U5  create, no password  POST /api/v1/tenants/{small}/users      (unique emails; an invitation is queued)
#   U6  create + password    POST /api/v1/tenants/{small}/users      (unique emails; one Argon2id hash each)
#   U7  client-credential token, as T1 in run.sh (a SERVICE application of a small tenant)
#   L-* the list's every sort_by in both orders (page 1 and page 500) and every filter (issue 18), LIST_CONNS connections
#   C1/C2 the API calls of the console's users page (first page, a search), LIST_CONNS connections
#   P1/P2 the console's users page itself (first page, a search), signed in by bench/console-session.py
# SCENARIOS picks the groups: "core lists" (default; core = U1-U7).
#
# Prints "NAME req/s p50_ms p99_ms" + "# NAME requests=… non2xx=…" per scenario and repeat, "RSS NAME vmrss_mb
# vmhwm_mb" after each, then per database a table (medians) with the ratios and targets; also
# $BENCH_WORK/results/summary.md. See bench/README.md, "Scale bench (issue 5)", for every knob.
#   DB=both REPEATS=3 DURATION=10s THREADS=2 CONNS=32 USERS=1000000 OTHER_USERS=1000 PEERS=1 bench/scale.sh
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
DB="${DB:-both}"
REPEATS="${REPEATS:-3}"
DURATION="${DURATION:-10s}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-32}"
WARMUP="${WARMUP:-2s}"
SERVER_WARMUP="${SERVER_WARMUP:-20s}"
WRK_TIMEOUT="${WRK_TIMEOUT:-10s}"
PORT="${BENCH_PORT:-5097}"
USERS="${USERS:-1000000}"
OTHER_USERS="${OTHER_USERS:-1000}"
TENANTS="${TENANTS:-11}"
SAMPLE_IDS="${SAMPLE_IDS:-1000}"
SEARCH="${SEARCH:-}"
PEERS="${PEERS:-1}"
PEER_N="${PEER_N:-100000}"
BASELINE="${BASELINE:-1}"
SEED_MODE="${SEED_MODE:-auto}"
SEED_CACHE="${SEED_CACHE:-/tmp/scaikey-bench-seed}"
SCENARIOS="${SCENARIOS:-core lists}"
LIST_CONNS="${LIST_CONNS:-4}"
SEED_TIMEOUT="${SEED_TIMEOUT:-7200}"
PG_CS="${PG_CS:-}"
PG_PORT="${PG_PORT:-54340}"
PG_DATA="${PG_DATA:-/tmp/scaikey-bench-pg-$PG_PORT}"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
SHARED_BENCH="${SHARED_BENCH:-$ROOT/../shared/bench}"
PEERS_DIR="${PEERS_DIR:-/tmp/scaikey-bench-peers}"
RUN_TS="$(date -u +%Y%m%dT%H%M%SZ)"
WORK="${BENCH_WORK:-/tmp/scaikey-bench-scale-$RUN_TS}"
BASE="http://127.0.0.1:$PORT"
PASSWORD='Bench-Passphrase-2718!'
ADMIN_ID="bench-admin"

source "$HERE/lib.sh"
mkdir -p "$WORK/results"
RESULTS="$WORK/results"
RSS_FILE="$RESULTS/rss.tsv"
CPU_LINES="$RESULTS/cpu.tsv"
: >"$CPU_LINES"
: >"$RSS_FILE"
: >"$RESULTS/lines.peers.tsv"
require_tools
case "$DB" in
    both) DBS="sqlite postgres" ;;
    sqlite|postgres) DBS="$DB" ;;
    *) die "DB must be sqlite, postgres or both (got '$DB')" ;;
esac

PG_STARTED=0
cleanup() {
    stop_server
    [ -n "${B1_PID:-}" ] && kill "$B1_PID" 2>/dev/null
    [ "$PG_STARTED" = "1" ] && pg_ctl_stop
    return 0
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------------------------
# PostgreSQL: a private PostgreSQL 15 on 127.0.0.1:$PG_PORT (data in $PG_DATA, kept between runs with the seeded
# database), unless PG_CS (an ADO.NET connection string of a role that may create databases) is given.
# Default durability (fsync, synchronous_commit on): creates are measured as in production.
# ---------------------------------------------------------------------------------------------------------------
as_pg() {
    if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else (cd / && "$@"); fi
}
pg_ctl_stop() { as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1; PG_STARTED=0; }

start_private_pg() {
    [ -x "$PG_BIN/initdb" ] || die "no PostgreSQL 15 in $PG_BIN (apt-get install postgresql-15) or give PG_CS"
    if [ ! -f "$PG_DATA/PG_VERSION" ]; then
        note "initdb $PG_DATA"
        mkdir -p "$PG_DATA"
        [ "$(id -u)" = 0 ] && chown postgres: "$PG_DATA"
        chmod 700 "$PG_DATA"
        as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -E UTF8 --locale=C.UTF-8 --auth-local=trust \
            --auth-host=scram-sha-256 --no-instructions >"$RESULTS/initdb.log" 2>&1 || { cat "$RESULTS/initdb.log" >&2; die "initdb failed"; }
        echo "include_if_exists = 'scaikey-bench.conf'" | as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
    fi
    as_pg tee "$PG_DATA/scaikey-bench.conf" >/dev/null <<EOF
# Written by bench/scale.sh: a private benchmark server with PostgreSQL's default durability.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_DATA'
max_connections = 200
shared_buffers = 256MB
effective_cache_size = 4GB
password_encryption = 'scram-sha-256'
log_min_messages = warning
EOF
    as_pg tee "$PG_DATA/pg_hba.conf" >/dev/null <<'EOF'
local   all       all                  trust
host    all       all   127.0.0.1/32   scram-sha-256
EOF
    if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/postgres.log" -w -t 120 start >/dev/null \
            || { tail -20 "$PG_DATA/postgres.log" >&2; die "PostgreSQL did not start"; }
        PG_STARTED=1
    fi
    as_pg "$PG_BIN/psql" -X -q -h "$PG_DATA" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'scaikey') THEN
    CREATE ROLE scaikey LOGIN SUPERUSER PASSWORD 'scaikey';
  END IF;
END $$;
SQL
    PG_CS="Host=127.0.0.1;Port=$PG_PORT;Username=scaikey;Password=scaikey;Database=postgres"
    note "PostgreSQL $("$PG_BIN/postgres" -V | awk '{print $3}') on 127.0.0.1:$PG_PORT (data $PG_DATA$([ "$PG_STARTED" = 1 ] || echo ", already running"))"
}

# pg_cs DATABASE: PG_CS with Database= replaced; psql_pg DATABASE ARGS...: psql over TCP with PG_CS's role.
pg_cs() { python3 -c 'import sys; parts = [p for p in sys.argv[1].split(";") if p and not p.lower().startswith("database=")]; print(";".join(parts + ["Database=" + sys.argv[2]]))' "$PG_CS" "$1"; }
psql_pg() {
    local db="$1"; shift
    local conninfo
    conninfo="$(python3 -c '
import sys
keys = {"host": "host", "server": "host", "port": "port", "username": "user", "user id": "user", "userid": "user", "password": "password"}
out = {}
for part in sys.argv[1].split(";"):
    if "=" in part:
        k, v = part.split("=", 1)
        if k.strip().lower() in keys: out[keys[k.strip().lower()]] = v.strip()
print(" ".join("%s=%s" % kv for kv in out.items()) + " dbname=" + sys.argv[2])' "$PG_CS" "$db")"
    PGCONNECT_TIMEOUT=10 PGOPTIONS="-c client_min_messages=warning" "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 "$conninfo" "$@"
}

# ---------------------------------------------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------------------------------------------
note "run $RUN_TS host=$(hostname) cpus=$(nproc) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) wrk=$(wrk -v 2>&1 | head -1 | awk '{print $2}')"
note "DB=$DB USERS=$USERS TENANTS=$TENANTS OTHER_USERS=$OTHER_USERS repeats=$REPEATS wrk -t$THREADS -c$CONNS -d$DURATION (warm-up $WARMUP, server warm-up $SERVER_WARMUP) PEERS=$PEERS PEER_N=$PEER_N BASELINE=$BASELINE"
SRC_ROOT="${SRC_ROOT:-$ROOT}"
if [ -n "${APP_DIR:-}" ]; then
    # A service already published (Release) from SRC_ROOT, e.g. by an earlier run: no build.
    [ -f "$APP_DIR/ScaiKey.Api.dll" ] || die "no ScaiKey.Api.dll in APP_DIR=$APP_DIR"
    mkdir -p "$WORK/app" && cp -r "$APP_DIR/." "$WORK/app/"
    note "using the published service of $APP_DIR"
else
    note "building Release of $SRC_ROOT into $WORK/app"
    publish_service "$WORK/app" "$SRC_ROOT"
fi
if [ "$SEED_MODE" = "auto" ]; then
    # The seed command lives in src/ScaiKey.Api/Cli; without it, seed through the API (fine for small USERS only).
    if [ -d "$SRC_ROOT/src/ScaiKey.Api/Cli" ]; then SEED_MODE=cli; else SEED_MODE=api; fi
fi
note "seeding with: $SEED_MODE (cache $SEED_CACHE)"

# ---------------------------------------------------------------------------------------------------------------
# Seeding (cached): $SEED_CACHE/<db>-t<TENANTS>-u<USERS>-o<OTHER_USERS>/ holds seed.json, the key-encryption key and
# the bootstrap secret (the signing keys in the database are encrypted with that key), and for SQLite scaikey.db.
# ---------------------------------------------------------------------------------------------------------------
# service_env DB CONNECTION_STRING CACHE_DIR DATA_DIR: the service's configuration, one NAME=VALUE per line.
service_env() {
    local provider=Sqlite; [ "$1" = postgres ] && provider=Postgres
    cat <<EOF
ScaiKey__Database__Provider=$provider
ConnectionStrings__Default=$2
ScaiKey__DataDirectory=$4
ScaiKey__KeyEncryptionKey=$(cat "$3/kek")
ScaiKey__Bootstrap__ClientId=$ADMIN_ID
ScaiKey__Bootstrap__ClientSecret=$(cat "$3/admin-secret")
ScaiKey__RateLimits__Enabled=false
Logging__LogLevel__Default=Warning
ScaiKey__Issuer=http://localhost:$PORT/
EOF
}

admin_token() { curl -fsS -u "$ADMIN_ID:$ADMIN_SECRET" -d grant_type=client_credentials "$BASE/connect/token" | json 'd["access_token"]'; }
api_post() { curl -sS -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "$2" "$BASE$1"; }
api_get() { curl -sS -H "Authorization: Bearer $TOKEN" "$BASE$1"; }

# seed_api CACHE_DIR: tenants and users through the API, for small USERS while the seed command is missing.
seed_api() {
    local cache="$1" i
    local tenants=()
    for i in $(seq "$TENANTS"); do
        tenants+=("$(api_post /api/v1/admin/tenants "{\"name\": \"Scale Tenant $i\"}" | json '"%s %s" % (d["data"]["id"], d["data"]["slug"])')")
        [ -n "${tenants[-1]}" ] || die "tenant $i not created"
    done
    python3 - "$BASE" "$TOKEN" "$USERS" "$OTHER_USERS" "${tenants[@]}" >"$cache/seed.json" <<'PY' || die "API seeding failed"
import concurrent.futures, json, random, sys, urllib.request
base, token, users, other = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
tenants = [arg.split() for arg in sys.argv[5:]]
FIRST = "james mary robert patricia john jennifer michael linda david elizabeth william barbara richard susan joseph jessica thomas sarah charles karen ahmed fatima wei mei hiroshi yuki raj priya olga ivan lucas sofia mateo valentina noah emma liam olivia elias lea jonas mia finn hannah".split()
LAST = "smith johnson williams brown jones garcia miller davis rodriguez martinez wilson anderson taylor moore jackson martin lee perez thompson white harris clark lewis walker young allen king wright scott torres nguyen mueller schmidt schneider fischer weber meyer wagner rossi russo kowalski nowak dubois moreau tanaka suzuki sato kim park chen wang singh patel".split()
DOMAINS = "gmail.com outlook.com yahoo.com proton.me gmx.de fastmail.com acme-corp.com globex.io initech.net example.org".split()
rnd = random.Random(42)
jobs = []
for n, (tid, slug) in enumerate(tenants):
    for i in range(users if n == 0 else other):
        f, l = rnd.choice(FIRST), rnd.choice(LAST)
        domain = "zephyrmail.example" if i % 100 == 0 else rnd.choice(DOMAINS)
        jobs.append((tid, {"email": "%s.%s%d.t%d@%s" % (f, l, i, n, domain), "first_name": f.title(), "last_name": l.title(), "send_welcome_email": False}))
def post(job):
    tid, body = job
    req = urllib.request.Request(base + "/api/v1/tenants/%s/users" % tid, data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.status
with concurrent.futures.ThreadPoolExecutor(8) as pool:
    bad = [s for s in pool.map(post, jobs) if s != 201]
if bad:
    sys.exit("%d users not created" % len(bad))
print(json.dumps({"tenants": [{"id": t, "slug": s, "users": users if n == 0 else other} for n, (t, s) in enumerate(tenants)]}))
PY
}

# seed_cli DB CS CACHE_DIR DATA_DIR: the service's own seed command (a new database), one JSON object on stdout.
seed_cli() {
    local out="$RESULTS/seed.$1.out"
    (
        cd "$WORK/app"
        mapfile -t cfg < <(service_env "$1" "$2" "$3" "$4")
        exec env ASPNETCORE_ENVIRONMENT=Production "${cfg[@]}" timeout "$SEED_TIMEOUT" dotnet "$WORK/app/ScaiKey.Api.dll" \
            seed --tenants "$TENANTS" --users "$USERS" --other-users "$OTHER_USERS"
    ) >"$out" 2>"$RESULTS/seed.$1.err" || { tail -20 "$RESULTS/seed.$1.err" "$out" >&2; die "seed command failed ($1)"; }
    grep '^{' "$out" | tail -1 >"$3/seed.json"
    [ -n "$(json 'len(d["tenants"])' <"$3/seed.json")" ] || { tail -20 "$out" >&2; die "seed command printed no tenants ($1)"; }
}

# seed_extras DB: OUs, nested groups, memberships, MFA factors and edits for the big tenant's users
# (tools/perf/scale-data.py *-extras, whose header gives the proportions), once per cached database.
seed_extras() {
    [ -f "$CACHE/extras.done" ] && return 0
    local big t0=$SECONDS
    big="$(json 'max(d["tenants"], key=lambda t: t["users"])["id"]' <"$CACHE/seed.json")"
    note "adding OUs, groups, memberships and MFA factors to tenant $big ($1)"
    if [ "$1" = sqlite ]; then
        python3 "$ROOT/tools/perf/scale-data.py" sqlite-extras "$big" | sqlite3 "$CACHE/scaikey.db" >/dev/null || die "extras failed (sqlite)"
    else
        python3 "$ROOT/tools/perf/scale-data.py" postgres-extras "$big" | psql_pg "$CACHE_DB" >/dev/null || die "extras failed (postgres)"
    fi
    touch "$CACHE/extras.done"
    note "extras added in $((SECONDS - t0)) s"
}

# prepare_db DB: makes sure the cache holds a seeded database and sets RUN_CS (a fresh copy for this run),
# CACHE (cache folder) and DATA (data folder of this run).
prepare_db() {
    local db="$1" migrations="$SRC_ROOT/src/ScaiKey.Data.Sqlite/Migrations" schema
    [ "$db" = postgres ] && migrations="$SRC_ROOT/src/ScaiKey.Data.Postgres/Migrations"
    # The cache is keyed by the counts and by the newest migration, so a schema change seeds again.
    schema="$(find "$migrations" -maxdepth 1 -name '[0-9]*_*.cs' ! -name '*.Designer.cs' -printf '%f\n' | sort | tail -1 | cut -d_ -f1)"
    CACHE="$SEED_CACHE/$db-t$TENANTS-u$USERS-o$OTHER_USERS-m${schema:-0}"
    DATA="$WORK/data-$db"
    mkdir -p "$CACHE" "$DATA"
    [ -f "$CACHE/kek" ] || head -c 32 /dev/urandom | base64 >"$CACHE/kek"
    [ -f "$CACHE/admin-secret" ] || head -c 32 /dev/urandom | base64 | tr -d '=+/' >"$CACHE/admin-secret"
    ADMIN_SECRET="$(cat "$CACHE/admin-secret")"
    local seeded=0 t0 cache_cs
    if [ "$db" = sqlite ]; then
        cache_cs="Data Source=$CACHE/scaikey.db"
        [ -f "$CACHE/seed.json" ] && [ -f "$CACHE/scaikey.db" ] && seeded=1
        [ "$seeded" = 1 ] || rm -f "$CACHE/scaikey.db" "$CACHE/scaikey.db-wal" "$CACHE/scaikey.db-shm" "$CACHE/seed.json"
    else
        CACHE_DB="scaikey_bench_t${TENANTS}_u${USERS}_o${OTHER_USERS}_m${schema:-0}"
        cache_cs="$(pg_cs "$CACHE_DB")"
        if [ -f "$CACHE/seed.json" ] && [ "$(psql_pg postgres -c "select 1 from pg_database where datname = '$CACHE_DB'")" = 1 ]; then
            local have want
            have="$(psql_pg "$CACHE_DB" -c 'select count(*) from users' 2>/dev/null)"
            want=$((USERS + (TENANTS - 1) * OTHER_USERS))
            if [ -n "$have" ] && [ "$have" -ge "$want" ]; then seeded=1; else note "cached $CACHE_DB has ${have:-no} users, want $want: seeding again"; fi
        fi
        if [ "$seeded" = 0 ]; then
            rm -f "$CACHE/seed.json"
            psql_pg postgres -c "drop database if exists $CACHE_DB with (force)" -c "create database $CACHE_DB" || die "cannot create $CACHE_DB"
        fi
    fi
    if [ "$seeded" = 0 ]; then
        t0=$SECONDS
        note "seeding $db ($SEED_MODE): $TENANTS tenants, $USERS + $((TENANTS - 1)) x $OTHER_USERS users into $([ "$db" = sqlite ] && echo "$CACHE/scaikey.db" || echo "database $CACHE_DB")"
        if [ "$SEED_MODE" = cli ]; then
            seed_cli "$db" "$cache_cs" "$CACHE" "$DATA"
        else
            mapfile -t cfg < <(service_env "$db" "$cache_cs" "$CACHE" "$DATA")
            start_service "$WORK/app" "$RESULTS/seed.$db.server.log" "${cfg[@]}"
            TOKEN="$(admin_token)"; [ -n "$TOKEN" ] || die "no admin token"
            seed_api "$CACHE"
            stop_server
        fi
        note "seeded $db in $((SECONDS - t0)) s"
    else
        note "reusing the seeded $db database in $CACHE$([ "$db" = postgres ] && echo " (database $CACHE_DB)")"
    fi
    seed_extras "$db"
    # A fresh copy per run: the creates of U5/U6 do not accumulate in the cache.
    t0=$SECONDS
    if [ "$db" = sqlite ]; then
        rm -f "$DATA"/scaikey.db*
        local f
        for f in "$CACHE"/scaikey.db "$CACHE"/scaikey.db-wal; do [ -f "$f" ] && cp "$f" "$DATA/"; done
        RUN_CS="Data Source=$DATA/scaikey.db"
    else
        RUN_DB="scaikey_bench_run"
        psql_pg postgres -c "drop database if exists $RUN_DB with (force)" -c "create database $RUN_DB template $CACHE_DB strategy file_copy" \
            || die "cannot copy $CACHE_DB"
        RUN_CS="$(pg_cs "$RUN_DB")"
    fi
    note "copied the seeded database for this run in $((SECONDS - t0)) s"
}

# ---------------------------------------------------------------------------------------------------------------
# RSS of the server: VmHWM is reset (clear_refs 5) before each scenario, so it is that scenario's peak.
# ---------------------------------------------------------------------------------------------------------------
rss_reset() { echo 5 >"/proc/$SERVER_PID/clear_refs" 2>/dev/null; }
rss_mb() { awk -v k="$1:" '$1 == k {printf "%.0f", $2 / 1024}' "/proc/$SERVER_PID/status"; }
rss_note() { # NAME
    local rss hwm; rss="$(rss_mb VmRSS)"; hwm="$(rss_mb VmHWM)"
    echo "RSS $1 $rss $hwm"
    printf '%s\t%s\t%s\t%s\t%s\n' "$CUR_DB" "$1" "$REPEAT" "$rss" "$hwm" >>"$RSS_FILE"
}

# scenario NAME SCRIPT [wrk args...]
scenario() {
    local name="$1"; shift
    rss_reset
    run_wrk "$name" "$@"
    local rc=$?
    [ $rc = 2 ] && echo "WARN $CUR_DB $name: errors or non-2xx answers (see $WRK_OUT_DIR/$name.r$REPEAT.txt)" && WARNINGS+=("$CUR_DB $name r$REPEAT")
    grep -q '^RESULT .* requests=0 ' "$WRK_OUT_DIR/$name.r$REPEAT.txt" 2>/dev/null \
        && echo "WARN $CUR_DB $name: no request completed within $DURATION" && WARNINGS+=("$CUR_DB $name r$REPEAT: 0 requests")
    rss_note "$name"
}

# ---------------------------------------------------------------------------------------------------------------
# Lists (issue 18): every sort_by in both orders, at page 1 and page 500 (offset 9,980: deep enough that a sort
# not served by an index, or a walk of the rows before the offset, shows), every filter with the default sort, a
# search under another sort, and combinations. LIST_CONNS (4) concurrent requests: a console is a few admins at
# once, and with 32 the p99 on two shared cores is mostly queueing, not the query.
# The ids of OUs and groups are the ones tools/perf/scale-data.py *-extras gives (prefix: the tenant id's first 20).
# Squad g-17 has no members (the worst case of a walk that finds nothing); g-16 is a populated squad (33,333).
#
# The console page (GET /console/tenants/{t}/users) is requested itself as P1/P2, with the cookie of a tenant admin
# that bench/console-session.py signs in; C1-C5 are the calls it makes (its list, per_page = ScaiKey:Console:PageSize,
# 25, created_at desc, with a search for C2; /ous and /groups per_page=100; the tenant).
# ---------------------------------------------------------------------------------------------------------------
list_scenarios() {
    local term="$1" sort order page pfx="${BIG:0:20}" api="/api/v1/tenants/$BIG"
    local saved_conns="$CONNS"
    CONNS="$LIST_CONNS"
    for sort in created_at updated_at email display_name last_name last_login_at status; do
        for order in asc desc; do
            for page in 1 500; do
                BENCH_PATH="$api/users?sort_by=$sort&sort_order=$order&page=$page&per_page=20" \
                    scenario "L-$sort-$order-p$page" "$HERE/lua/get_path.lua" -H "$AUTH_H"
            done
        done
    done
    local name query
    while read -r name query; do
        BENCH_PATH="$api/users?$query&per_page=20" scenario "L-$name" "$HERE/lua/get_path.lua" -H "$AUTH_H"
    done <<EOF
status-locked status=LOCKED
status-disabled-p20 status=DISABLED&page=20
ou-division ou_id=$pfx-ou-3
ou-department ou_id=$pfx-ou-45
ou-department-p50 ou_id=$pfx-ou-45&page=50
group-team group_id=$pfx-g-2
group-squad group_id=$pfx-g-17
group-squad-p50 group_id=$pfx-g-17&page=50
group-squad-full group_id=$pfx-g-16
group-squad-full-p50 group_id=$pfx-g-16&page=50
mfa-true mfa_enabled=true
mfa-false mfa_enabled=false
mfa-true-p500 mfa_enabled=true&page=500
search search=$term
search-last_name search=$term&sort_by=last_name&sort_order=asc
combination status=ACTIVE&ou_id=$pfx-ou-3&group_id=$pfx-g-2&mfa_enabled=false&sort_by=last_name&sort_order=asc
combination-search search=$term&status=ACTIVE&mfa_enabled=false&ou_id=$pfx-ou-3
EOF
    BENCH_PATH="$api/users?sort_by=created_at&sort_order=desc&page=1&per_page=25" scenario C1 "$HERE/lua/get_path.lua" -H "$AUTH_H"
    BENCH_PATH="$api/users?search=$term&sort_by=created_at&sort_order=desc&page=1&per_page=25" scenario C2 "$HERE/lua/get_path.lua" -H "$AUTH_H"
    BENCH_PATH="$api/ous?per_page=100" scenario C3 "$HERE/lua/get_path.lua" -H "$AUTH_H"
    BENCH_PATH="$api/groups?per_page=100" scenario C4 "$HERE/lua/get_path.lua" -H "$AUTH_H"
    BENCH_PATH="/api/v1/admin/tenants/$BIG" scenario C5 "$HERE/lua/get_path.lua" -H "$AUTH_H"
    # The console page itself, as a tenant admin signed in through the console's code flow (the issuer is
    # http://localhost:PORT/ for that: the console client's redirect URI is made from it, and passkeys refuse an IP).
    local cookie slug
    slug="$(json 'max(d["tenants"], key=lambda t: t["users"])["slug"]' <"$CACHE/seed.json")"
    if cookie="$(python3 "$HERE/console-session.py" "http://localhost:$PORT" "$TOKEN" "$BIG" "$slug")"; then
        BENCH_PATH="/console/tenants/$BIG/users" scenario P1 "$HERE/lua/get_path.lua" -H "Cookie: $cookie"
        BENCH_PATH="/console/tenants/$BIG/users?search=$term" scenario P2 "$HERE/lua/get_path.lua" -H "Cookie: $cookie"
    else
        echo "WARN $CUR_DB P1/P2: no console session" && WARNINGS+=("$CUR_DB P1/P2: no console session")
    fi
    CONNS="$saved_conns"
}

# ---------------------------------------------------------------------------------------------------------------
# One database: seed/copy, start, sample, sanity, warm up, repeats
# ---------------------------------------------------------------------------------------------------------------
WARNINGS=()
bench_db() {
    CUR_DB="$1"
    note "=============== $CUR_DB ==============="
    [ "$CUR_DB" = postgres ] && { [ -n "$PG_CS" ] || start_private_pg; }
    prepare_db "$CUR_DB"
    LINES="$RESULTS/lines.$CUR_DB.tsv"
    : >"$LINES"
    WRK_OUT_DIR="$RESULTS/$CUR_DB"
    mkdir -p "$WRK_OUT_DIR"
    mapfile -t cfg < <(service_env "$CUR_DB" "$RUN_CS" "$CACHE" "$DATA")
    start_service "$WORK/app" "$RESULTS/scaikey.$CUR_DB.server.log" "${cfg[@]}"
    note "ScaiKey pid=$SERVER_PID on $BASE (Release, $CUR_DB), RSS after start: $(rss_mb VmRSS) MB"
    TOKEN="$(admin_token)"
    [ -n "$TOKEN" ] || die "no admin token (bootstrap client $ADMIN_ID)"
    AUTH_H="Authorization: Bearer $TOKEN"

    # The big tenant: the one with USERS users; a small one for the creates and the SERVICE application.
    read -r BIG SMALL < <(json '"%s %s" % (max(d["tenants"], key=lambda t: t["users"])["id"], [t for t in d["tenants"] if t["users"] != max(x["users"] for x in d["tenants"])][0]["id"] if len(d["tenants"]) > 1 else "")' <"$CACHE/seed.json")
    [ -n "$BIG" ] && [ -n "$SMALL" ] || die "seed.json has no big and small tenant: $(head -c 300 "$CACHE/seed.json")"
    local total
    total="$(api_get "/api/v1/tenants/$BIG/users?per_page=1" | json 'd["pagination"]["total_items"]')"
    note "big tenant $BIG: $total users; creates go to tenant $SMALL"
    [ "$total" -ge "$USERS" ] 2>/dev/null || die "the big tenant has ${total:-?} users, want $USERS"

    # Ids for U1: SAMPLE_IDS/100 random pages of 100 across the big tenant (also the sample for the search term).
    local sample="$WORK/sample.$CUR_DB.jsonl" pages=$(( (total + 99) / 100 )) t0=$SECONDS p
    : >"$sample"
    for p in $(python3 -c "import random; print(' '.join(map(str, random.Random(7).sample(range(1, $pages + 1), min($pages, max(1, $SAMPLE_IDS // 100))))))"); do
        api_get "/api/v1/tenants/$BIG/users?page=$p&per_page=100" | python3 -c '
import json, sys
for u in json.load(sys.stdin)["data"]: print(json.dumps(u))' >>"$sample" || die "sampling page $p failed"
    done
    python3 -c 'import json, sys; [print(json.loads(l)["id"]) for l in open(sys.argv[1])]' "$sample" >"$WORK/ids.$CUR_DB.txt"
    note "sampled $(wc -l <"$WORK/ids.$CUR_DB.txt") user ids from $(( SAMPLE_IDS / 100 )) random pages in $((SECONDS - t0)) s"

    # U4's term: SEARCH, or the substring of the sampled users' email/names whose match count is closest to 1 %.
    local term="$SEARCH" matched
    if [ -z "$term" ]; then
        local cand best="" best_d=""
        for cand in $(python3 - "$sample" <<'PY'
import collections, json, re, sys
users = [json.loads(l) for l in open(sys.argv[1])]
words, subs = collections.Counter(), collections.Counter()
for u in users:
    text = " ".join(str(u.get(k) or "") for k in ("email", "username", "first_name", "last_name", "display_name")).lower()
    ws = set(w for w in re.findall(r"[a-z0-9]+", text) if len(w) >= 3 and not w.isdigit())
    words.update(ws)
    subs.update(set(w[i:i + n] for w in ws for n in range(3, 9) for i in range(len(w) - n + 1)))
n = max(1, len(users))
def best(counter):
    return [s for _, _, s in sorted((abs(c / n - 0.01), -len(s), s) for s, c in counter.items() if 0.005 <= c / n <= 0.02 and not s.isdigit())]
# Whole words (a name, a domain part) first, like better-auth's "zephyr"; substrings only when no word fits.
print(" ".join((best(words) + best(subs))[:8]) or "zephyr")
PY
        ); do
            matched="$(api_get "/api/v1/tenants/$BIG/users?search=$cand&per_page=1" | json 'd["pagination"]["total_items"]')"
            [ -n "$matched" ] || continue
            local d; d="$(python3 -c "print(abs($matched / $total - 0.01))")"
            if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if $d < $best_d else 1)"; then best="$cand"; best_d="$d"; fi
        done
        term="${best:-zephyr}"
    fi
    matched="$(api_get "/api/v1/tenants/$BIG/users?search=$term&per_page=1" | json 'd["pagination"]["total_items"]')"
    note "U4 search term '$term' matches $matched of $total users ($(python3 -c "print('%.2f' % (100 * ${matched:-0} / $total))") %)"
    echo "$CUR_DB $term $matched $total" >>"$RESULTS/search.txt"

    # U7: a SERVICE application in a small tenant.
    local service
    service="$(api_post "/api/v1/tenants/$SMALL/applications" '{"name": "Scale bench service", "type": "SERVICE"}')"
    local sid ssecret
    sid="$(json 'd["data"]["client_id"]' <<<"$service")"; ssecret="$(json 'd["data"]["client_secret"]' <<<"$service")"
    [ -n "$ssecret" ] || die "SERVICE application not created: $service"
    U7_AUTH="$(printf 'Authorization: Basic %s' "$(printf '%s:%s' "$sid" "$ssecret" | base64 -w0)")"

    # Sanity: every scenario answers as expected once.
    local id1 out
    id1="$(head -1 "$WORK/ids.$CUR_DB.txt")"
    out="$(api_get "/api/v1/tenants/$BIG/users/$id1")"
    [ "$(json 'd["data"]["id"]' <<<"$out")" = "$id1" ] || die "U1 sanity failed: ${out:0:300}"
    for p in 1 500; do
        out="$(api_get "/api/v1/tenants/$BIG/users?page=$p&per_page=20")"
        note "sanity list page $p: $(json '"%d items, total_items=%s" % (len(d["data"]), d["pagination"]["total_items"])' <<<"$out")" || die "list sanity failed: ${out:0:300}"
    done
    out="$(api_post "/api/v1/tenants/$SMALL/users" "{\"email\": \"sanity-$RUN_TS@bench-create.example\"}")"
    note "sanity U5: $(json 'd["data"]["status"]' <<<"$out")" ; [ -n "$(json 'd["data"]["id"]' <<<"$out")" ] || die "U5 sanity failed: ${out:0:300}"
    out="$(api_post "/api/v1/tenants/$SMALL/users" "{\"email\": \"sanity-pw-$RUN_TS@bench-create.example\", \"password\": \"$PASSWORD\"}")"
    note "sanity U6: $(json 'd["data"]["status"]' <<<"$out")" ; [ "$(json 'd["data"]["status"]' <<<"$out")" = ACTIVE ] || die "U6 sanity failed: ${out:0:300}"
    out="$(curl -sS -H "$U7_AUTH" -d grant_type=client_credentials "$BASE/connect/token")"
    [ -n "$(json 'd.get("access_token")' <<<"$out")" ] || die "U7 sanity failed: $out"

    export BENCH_LUA_LIB="$HERE/lua/report.lua" BENCH_IDS_FILE="$WORK/ids.$CUR_DB.txt" BENCH_TENANT="$BIG"
    if [ "$SERVER_WARMUP" != "0" ]; then
        note "warming the server up: U1 for $SERVER_WARMUP, U2 and U4 for 5s (not reported)"
        wrk -t"$THREADS" -c"$CONNS" -d"$SERVER_WARMUP" -s "$HERE/lua/u1_get_user.lua" -H "$AUTH_H" "$BASE" >/dev/null 2>&1
        BENCH_PATH="/api/v1/tenants/$BIG/users?page=1&per_page=20" wrk -t"$THREADS" -c"$CONNS" -d5s -s "$HERE/lua/get_path.lua" -H "$AUTH_H" "$BASE" >/dev/null 2>&1
        BENCH_PATH="/api/v1/tenants/$BIG/users?search=$term&per_page=20" wrk -t"$THREADS" -c"$CONNS" -d5s -s "$HERE/lua/get_path.lua" -H "$AUTH_H" "$BASE" >/dev/null 2>&1
    fi

    for ((REPEAT = 1; REPEAT <= REPEATS; REPEAT++)); do
        note "--- $CUR_DB repeat $REPEAT/$REPEATS ---"
        export BENCH_TENANT="$BIG"
        if [[ " $SCENARIOS " == *" core "* ]]; then
            scenario U1 "$HERE/lua/u1_get_user.lua" -H "$AUTH_H"
            BENCH_PATH="/api/v1/tenants/$BIG/users?page=1&per_page=20" scenario U2 "$HERE/lua/get_path.lua" -H "$AUTH_H"
            BENCH_PATH="/api/v1/tenants/$BIG/users?page=500&per_page=20" scenario U3 "$HERE/lua/get_path.lua" -H "$AUTH_H"
            BENCH_PATH="/api/v1/tenants/$BIG/users?search=$term&per_page=20" scenario U4 "$HERE/lua/get_path.lua" -H "$AUTH_H"
            sleep 2
            rss_note STEADY
            export BENCH_TENANT="$SMALL"
            BENCH_CREATE_PREFIX="u5-$RUN_TS" scenario U5 "$HERE/lua/create_user.lua" -H "$AUTH_H"
            BENCH_CREATE_PREFIX="u6-$RUN_TS" BENCH_CREATE_PASSWORD="$PASSWORD" scenario U6 "$HERE/lua/create_user.lua" -H "$AUTH_H"
            scenario U7 "$HERE/lua/t1_client_credentials.lua" -H "$U7_AUTH"
        fi
        [[ " $SCENARIOS " == *" lists "* ]] && list_scenarios "$term"
    done
    sleep 2
    rss_note END
    stop_server
    if [ "$CUR_DB" = postgres ]; then
        psql_pg postgres -c "drop database if exists $RUN_DB with (force)" >/dev/null 2>&1
    fi
}

# ---------------------------------------------------------------------------------------------------------------
# B1: ../shared/bench/baseline (raw ADO.NET, 1,000,000 rows). SQLite: its run.sh as is. PostgreSQL: run.sh only
# serves SQLite, so the same program (BASELINE_DB=postgres), the same rows copied into PostgreSQL and the same wrk
# script are run here.
# ---------------------------------------------------------------------------------------------------------------
B1_WORK="$SEED_CACHE/baseline"
prepare_b1() {
    copy_shared_bench
    [ -x "$PEERS_DIR/baseline/run.sh" ] || die "no baseline at $PEERS_DIR/baseline"
    mkdir -p "$B1_WORK"
    # Built here under the machine-wide build lock; run.sh's own `dotnet build` then has nothing to do.
    locked dotnet build "$PEERS_DIR/baseline/Baseline.csproj" -c Release -o "$B1_WORK/out" -nologo -v q >>"$RESULTS/build.log" 2>&1 \
        || { tail -20 "$RESULTS/build.log" >&2; die "baseline build failed"; }
}

b1_sqlite() {
    note "--- B1 sqlite: ../shared/bench/baseline/run.sh, REPEATS=$REPEATS ---"
    local line n=0
    env WORK_DIR="$B1_WORK" PORT=5901 REPEATS="$REPEATS" DURATION="$DURATION" THREADS="$THREADS" CONNS="$CONNS" \
        bash "$PEERS_DIR/baseline/run.sh" 2>"$RESULTS/b1.sqlite.err" | tee "$RESULTS/b1.sqlite.txt" | while read -r line; do
        echo "$line"
        set -- $line
        [ "$1" = B1 ] && echo "B1 $((++n)) $2 $3 $4" >>"$RESULTS/lines.sqlite.tsv"
    done
    grep -q '^B1 ' "$RESULTS/b1.sqlite.txt" || { tail -20 "$RESULTS/b1.sqlite.err" >&2; echo "B1 sqlite ERROR (see $RESULTS/b1.sqlite.err)"; }
}

b1_postgres() {
    note "--- B1 postgres: the baseline program with BASELINE_DB=postgres, the same 1,000,000 rows ---"
    [ -f "$B1_WORK/baseline.db" ] || {
        # run.sh creates baseline.db (and ids.txt) on its first run; no measurement wanted here.
        env WORK_DIR="$B1_WORK" PORT=5901 REPEATS=0 WARMUP=1s bash "$PEERS_DIR/baseline/run.sh" >/dev/null 2>"$RESULTS/b1.sqlite.err"
    }
    local bdb=scaikey_bench_baseline
    # Reused only if it holds the rows of this baseline.db (its ids are random per generation).
    local t1 u1; read -r t1 u1 <"$B1_WORK/ids.txt"
    if [ "$(psql_pg "$bdb" -c "select count(*) from users where exists (select 1 from users where tenant_id = '$t1' and id = '$u1')" 2>/dev/null)" != 1000000 ]; then
        note "loading the baseline rows into PostgreSQL database $bdb"
        psql_pg postgres -c "drop database if exists $bdb with (force)" -c "create database $bdb" || die "cannot create $bdb"
        psql_pg "$bdb" -c 'create table users(id text primary key, tenant_id text not null, email text not null, display_name text, status text not null, created_at timestamptz not null, deleted_at timestamptz)' || die "baseline table"
        python3 -c '
import csv, sqlite3, sys
w = csv.writer(sys.stdout)
for row in sqlite3.connect(sys.argv[1]).execute("select id, tenant_id, email, display_name, status, created_at, deleted_at from users"):
    w.writerow(row)' "$B1_WORK/baseline.db" | psql_pg "$bdb" -c '\copy users from stdin csv' || die "baseline copy failed"
        psql_pg "$bdb" -c 'create index ix_users_tenant_id on users(tenant_id, id)' -c 'analyze users' || die "baseline index"
    fi
    local port=5902 key="$B1_WORK/key.pem"
    (cd "$B1_WORK/out" && exec env ASPNETCORE_URLS="http://127.0.0.1:$port" BASELINE_DB=postgres BASELINE_CS="$(pg_cs "$bdb")" \
        BASELINE_KEY="$key" dotnet Baseline.dll) >"$RESULTS/b1.postgres.server.log" 2>&1 &
    B1_PID=$!
    local i token=""
    for i in $(seq 120); do token="$(curl -fs "http://127.0.0.1:$port/token" 2>/dev/null)" && [ -n "$token" ] && break; sleep 0.5; done
    [ -n "$token" ] || { kill "$B1_PID"; B1_PID=""; echo "B1 postgres ERROR (server did not start, see $RESULTS/b1.postgres.server.log)"; return 1; }
    cat >"$RESULTS/b1.postgres.lua" <<LUA
local ids = {}
for line in io.lines("$B1_WORK/ids.txt") do
  local t, u = line:match("(%S+) (%S+)")
  ids[#ids+1] = "/tenants/" .. t .. "/users/" .. u
end
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", ids[(i % #ids) + 1], {["Authorization"] = "Bearer $token"})
end
LUA
    wrk -t"$THREADS" -c"$CONNS" -d8s -s "$RESULTS/b1.postgres.lua" "http://127.0.0.1:$port" >/dev/null 2>&1
    local r line
    for r in $(seq "$REPEATS"); do
        line="$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$RESULTS/b1.postgres.lua" "http://127.0.0.1:$port" | tee "$RESULTS/b1.postgres.r$r.txt" | awk '
            /50%/ {p50=$2} /99%/ {p99=$2} /Requests\/sec/ {rps=$2} /Non-2xx/ {bad=$NF}
            function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
            END { printf "B1 %s %.2f %.2f%s\n", rps, ms(p50), ms(p99), bad ? "  WARN: " bad " non-2xx" : "" }')"
        echo "$line"
        [[ "$line" == *WARN* ]] && WARNINGS+=("postgres B1 r$r: non-2xx")
        set -- $line
        echo "B1 $r $2 $3 $4" >>"$RESULTS/lines.postgres.tsv"
    done
    kill "$B1_PID" 2>/dev/null; wait "$B1_PID" 2>/dev/null; B1_PID=""
}

# ---------------------------------------------------------------------------------------------------------------
# Run
# ---------------------------------------------------------------------------------------------------------------
[ "$BASELINE" = 1 ] && prepare_b1
for db in $DBS; do
    bench_db "$db"
    if [ "$BASELINE" = 1 ]; then
        if [ "$db" = sqlite ]; then b1_sqlite; else b1_postgres; fi
    fi
done
if [ "$PEERS" = "1" ]; then
    setup_peers better-auth
    LINES="$RESULTS/lines.peers.tsv"
    for ((REPEAT = 1; REPEAT <= REPEATS; REPEAT++)); do
        note "--- better-auth repeat $REPEAT/$REPEATS (N=$PEER_N) ---"
        seed=0; [ "$REPEAT" -gt 1 ] && seed=1
        run_peer better-auth "S1 S2 S3" PORT=4100 N="$PEER_N" SKIP_SEED="$seed"
    done
fi
[ "$PG_STARTED" = "1" ] && pg_ctl_stop

note "finished $(date -u +%Y-%m-%dT%H:%M:%SZ); warnings: ${#WARNINGS[@]}${WARNINGS[*]:+ (${WARNINGS[*]})}"
python3 - "$RESULTS" "$DBS" "$USERS" "$TENANTS" "$OTHER_USERS" "$REPEATS" "wrk -t$THREADS -c$CONNS -d$DURATION" "$RUN_TS" "$PEER_N" <<'EOF'
import collections, statistics, sys, os
results, dbs, users, tenants, other, repeats, wrkargs, run_ts, peer_n = sys.argv[1:10]
def lines(path):
    rows = collections.defaultdict(list)
    if os.path.exists(path):
        for line in open(path):
            f = line.split()
            if len(f) == 5:
                rows[f[0]].append(tuple(map(float, f[2:])))
    return {k: tuple(statistics.median(v[i] for v in vals) for i in range(3)) + (len(vals),) for k, vals in rows.items()}
peers = lines(os.path.join(results, "lines.peers.tsv"))
rss = collections.defaultdict(list)
if os.path.exists(os.path.join(results, "rss.tsv")):
    for line in open(os.path.join(results, "rss.tsv")):
        db, name, rep, cur, hwm = line.split("\t")
        if cur.strip() and hwm.strip():
            rss[(db, name)].append((float(cur), float(hwm)))
search = {}
if os.path.exists(os.path.join(results, "search.txt")):
    for line in open(os.path.join(results, "search.txt")):
        db, term, matched, total = line.split()
        search[db] = (term, matched, total)
NAMES = [("U1", "get user"), ("U2", "list page 1"), ("U3", "list page 500"), ("U4", "search"),
         ("U5", "create, no password"), ("U6", "create + password"), ("U7", "client-credential token"), ("B1", "raw baseline get user")]
md = ["# Scale bench %s" % run_ts, "",
      "%s users in one tenant + %d tenants x %s users; %s, medians of %s; better-auth N=%s; peak RSS = the largest VmHWM "
      "of the ScaiKey process during the scenario (over the repeats)." % (users, int(tenants) - 1, other, wrkargs, repeats, peer_n), ""]
for db in dbs.split():
    med = lines(os.path.join(results, "lines.%s.tsv" % db))
    title = "%s (%s users)" % (db, users)
    print("\n# ===== %s =====" % title)
    print("%-4s %-40s %10s %9s %9s %13s" % ("", "scenario", "req/s", "p50 ms", "p99 ms", "peak RSS MB"))
    md += ["## %s" % title, "", "| | scenario | req/s | p50 ms | p99 ms | peak RSS MB |", "|---|---|---:|---:|---:|---:|"]
    for key, label in NAMES + [("S1", "better-auth get-user"), ("S2", "better-auth list 20"), ("S3", "better-auth search 1 %")]:
        m = med.get(key) or peers.get(key)
        if not m:
            continue
        peak = max((h for _, h in rss.get((db, key), [])), default=None)
        peak_s = "%.0f" % peak if peak is not None else "-"
        if key == "U4" and db in search:
            label = "search '%s' (%s of %s)" % search[db][:3]
        if key == "B1" and db == "postgres":
            label += " (PostgreSQL)"
        print("%-4s %-40s %10.1f %9.2f %9.2f %13s" % (key, label[:40], m[0], m[1], m[2], peak_s))
        md.append("| %s | %s | %.1f | %.2f | %.2f | %s |" % (key, label, m[0], m[1], m[2], peak_s))
    steady = [c for c, _ in rss.get((db, "STEADY"), [])]
    peak_all = max((h for (d, _), v in rss.items() if d == db for _, h in v), default=None)
    checks = []
    def ratio(a, b, target, label):
        if a in med and (med.get(b) or peers.get(b)):
            v = med[a][0] / (med.get(b) or peers.get(b))[0]
            checks.append((label, "%.2f" % v, ">= %s" % target, v >= target))
        else:
            checks.append((label, "n/a", ">= %s" % target, None))
    def p99(a, limit):
        if a in med:
            checks.append(("%s p99 ms" % a, "%.2f" % med[a][2], "< %d" % limit, med[a][2] < limit))
        else:
            checks.append(("%s p99 ms" % a, "n/a", "< %d" % limit, None))
    ratio("U1", "B1", 0.8, "U1/B1")
    ratio("U1", "S1", 10, "U1/S1")
    ratio("U2", "S2", 10, "U2/S2")
    ratio("U3", "S2", 10, "U3/S2 (S2 is offset 0)")
    ratio("U4", "S3", 10, "U4/S3")
    p99("U2", 50); p99("U3", 50); p99("U4", 100)
    if steady:
        checks.append(("steady RSS MB (max over repeats)", "%.0f" % max(steady), "< 400", max(steady) < 400))
    else:
        checks.append(("steady RSS MB", "n/a", "< 400", None))
    print("# %-34s %9s %8s  %s" % ("check (%s)" % db, "value", "target", "result"))
    md += ["", "| check | value | target | result |", "|---|---:|---|---|"]
    for label, value, target, ok in checks:
        res = "ok" if ok else ("MISSED" if ok is False else "n/a")
        print("CHECK %-32s %9s %8s  %s" % (label, value, target, res))
        md.append("| %s | %s | %s | %s |" % (label, value, target, res))
    listed = sorted(k for k in med if k.startswith("L-") or k in ("C1", "C2", "C3", "C4", "C5"))
    if listed:
        print("# %-40s %10s %9s %9s  (issue 18: p99 < 100 ms for L-*, console page < 300 ms)" % ("list scenario", "req/s", "p50 ms", "p99 ms"))
        md += ["", "| list scenario | req/s | p50 ms | p99 ms |", "|---|---:|---:|---:|"]
        for k in listed:
            print("LIST %-40s %10.1f %9.2f %9.2f" % (k, med[k][0], med[k][1], med[k][2]))
            md.append("| %s | %.1f | %.2f | %.2f |" % (k, med[k][0], med[k][1], med[k][2]))
    if peak_all is not None:
        print("# peak RSS over all scenarios: %.0f MB; steady RSS after the reads: %s MB" % (peak_all, ", ".join("%.0f" % s for s in steady)))
        md.append("")
        md.append("Peak RSS over all scenarios %.0f MB; steady RSS after the read scenarios %s MB." % (peak_all, ", ".join("%.0f" % s for s in steady)))
    md.append("")
open(os.path.join(results, "summary.md"), "w").write("\n".join(md) + "\n")
print("\n# summary table: %s" % os.path.join(results, "summary.md"))
EOF
note "raw output in $RESULTS"
