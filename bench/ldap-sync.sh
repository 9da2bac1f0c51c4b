#!/usr/bin/env bash
# LDAP directory sync bench (issue 15): a full sync of ENTRIES (100,000) inetOrgPerson entries and LDAP_GROUPS groups
# (GROUP_SIZE members each) from a real slapd into ScaiKey, then a second FULL run and an INCREMENTAL run over the
# unchanged directory.
#
#   slapd (Debian, mdb) on loopback, loaded offline with slapadd -q from a generated LDIF (ldapadd would take minutes)
#   ScaiKey Release on SQLite in a fresh data folder (like bench/run.sh), an LDAP provider, POST .../sync, the job
#   polled until it is no longer RUNNING
#
# Prints "NAME seconds entries/s created updated disabled errors" per run and the machine's load.
# Usage: bench/ldap-sync.sh
#   ENTRIES=100000 LDAP_GROUPS=100 GROUP_SIZE=1000 LDAP_PORT=3899 BENCH_PORT=5098
#   BENCH_POSTGRES='Host=127.0.0.1;Port=54329;Username=scaikey;Password=scaikey;Database=postgres'  (also on PostgreSQL,
#   in a database of its own that is dropped at the end)
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
ENTRIES="${ENTRIES:-100000}"
LDAP_GROUPS="${LDAP_GROUPS:-100}"
GROUP_SIZE="${GROUP_SIZE:-1000}"
LDAP_PORT="${LDAP_PORT:-3899}"
PORT="${BENCH_PORT:-5098}"
BENCH_POSTGRES="${BENCH_POSTGRES:-}"
RUN_TS="$(date -u +%Y%m%dT%H%M%SZ)"
WORK="${BENCH_WORK:-/tmp/scaikey-ldap-bench-$RUN_TS}"
BASE="http://127.0.0.1:$PORT"
LDAP_URL="ldap://127.0.0.1:$LDAP_PORT/"
SUFFIX="dc=bench,dc=example"
ROOT_DN="cn=admin,$SUFFIX"
ROOT_PW="$(head -c 24 /dev/urandom | base64 | tr -d '=+/')"

# note, die, json, publish_service, start_service, stop_server
source "$HERE/lib.sh"
command -v slapd >/dev/null && command -v slapadd >/dev/null && command -v ldapsearch >/dev/null \
    || die "slapd and ldap-utils not found: apt-get install -y slapd ldap-utils"
command -v curl >/dev/null && command -v python3 >/dev/null || die "curl and python3 are needed"
mkdir -p "$WORK/results" "$WORK/slapd/db"

SLAPD_PID=""
PG_DB=""
cleanup() {
    stop_server
    [ -n "$SLAPD_PID" ] && kill "$SLAPD_PID" 2>/dev/null && wait "$SLAPD_PID" 2>/dev/null
    if [ -n "$PG_DB" ]; then
        PGPASSWORD="$PG_PASSWORD" psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -qc "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null 2>&1
    fi
}
trap cleanup EXIT

note "run $RUN_TS host=$(hostname) cpus=$(nproc) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) entries=$ENTRIES groups=${LDAP_GROUPS}x$GROUP_SIZE"
note "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
note "building Release into $WORK"
publish_service "$WORK/app"

# ---- slapd: mdb database, loaded offline ----
cat >"$WORK/slapd/slapd.conf" <<EOF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile $WORK/slapd/slapd.pid
sizelimit unlimited
database mdb
maxsize 4294967296
suffix "$SUFFIX"
rootdn "$ROOT_DN"
rootpw $ROOT_PW
directory $WORK/slapd/db
index objectClass eq
index entryUUID eq
index uid,mail eq
EOF
note "generating $ENTRIES users and $LDAP_GROUPS groups"
python3 - "$WORK/slapd/data.ldif" "$ENTRIES" "$LDAP_GROUPS" "$GROUP_SIZE" "$SUFFIX" <<'PY'
import sys, uuid, datetime
path, entries, groups, size, suffix = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
# slapadd -q does not make the operational attributes ldapadd would: each entry carries its own. Entries were changed
# one a second up to a minute ago, as in a directory with a history (all in one second, an incremental sync, which
# asks for modifyTimestamp >= the last one seen, would read them all again).
clock = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=entries + groups + 60)
def operational():
    global clock
    clock += datetime.timedelta(seconds=1)
    stamp = clock.strftime("%Y%m%d%H%M%SZ")
    return f"entryUUID: {uuid.uuid4()}\ncreatorsName: cn=admin,{suffix}\ncreateTimestamp: {stamp}\nmodifiersName: cn=admin,{suffix}\nmodifyTimestamp: {stamp}\n"
with open(path, "w") as f:
    f.write(f"dn: {suffix}\nobjectClass: dcObject\nobjectClass: organization\no: Bench\ndc: bench\n{operational()}\n")
    f.write(f"dn: ou=people,{suffix}\nobjectClass: organizationalUnit\nou: people\n{operational()}\n")
    f.write(f"dn: ou=groups,{suffix}\nobjectClass: organizationalUnit\nou: groups\n{operational()}\n")
    for i in range(entries):
        f.write(f"dn: uid=user{i},ou=people,{suffix}\nobjectClass: inetOrgPerson\nuid: user{i}\ncn: User {i}\n"
                f"givenName: Given{i}\nsn: Family{i}\nmail: user{i}@bench-ldap.example\n{operational()}\n")
    for g in range(groups):
        f.write(f"dn: cn=group{g},ou=groups,{suffix}\nobjectClass: groupOfNames\ncn: group{g}\n")
        for m in range(size):
            f.write(f"member: uid=user{(g * size + m) % entries},ou=people,{suffix}\n")
        f.write(operational() + "\n")
PY
LOAD_START=$EPOCHREALTIME
slapadd -q -f "$WORK/slapd/slapd.conf" -l "$WORK/slapd/data.ldif" >"$WORK/results/slapadd.log" 2>&1 || { tail "$WORK/results/slapadd.log"; die "slapadd failed"; }
note "slapadd -q: $(python3 -c "print(round($EPOCHREALTIME - $LOAD_START, 1))") s"
slapd -f "$WORK/slapd/slapd.conf" -h "$LDAP_URL" -d 0 >"$WORK/results/slapd.log" 2>&1 &
SLAPD_PID=$!
for _ in $(seq 100); do ldapsearch -x -H "$LDAP_URL" -b "" -s base >/dev/null 2>&1 && break; sleep 0.1; done
ldapsearch -x -H "$LDAP_URL" -b "" -s base >/dev/null 2>&1 || die "slapd did not start (see $WORK/results/slapd.log)"
note "slapd pid=$SLAPD_PID on $LDAP_URL"

# ---- one database: ScaiKey started on it, a tenant, an LDAP provider, three runs ----
bench_database() {
    local label="$1"; shift
    local admin_id="bench-admin" admin_secret
    admin_secret="$(head -c 32 /dev/urandom | base64 | tr -d '=+/')"
    start_service "$WORK/app" "$WORK/results/scaikey.$label.log" \
        ScaiKey__DataDirectory="$WORK/data-$label" ScaiKey__KeyEncryptionKey="$(head -c 32 /dev/urandom | base64)" \
        ScaiKey__Bootstrap__ClientId="$admin_id" ScaiKey__Bootstrap__ClientSecret="$admin_secret" ScaiKey__RateLimits__Enabled=false "$@"
    ADMIN_TOKEN="$(curl -fsS -u "$admin_id:$admin_secret" -d grant_type=client_credentials "$BASE/connect/token" | json 'd["access_token"]')"
    [ -n "$ADMIN_TOKEN" ] || die "no admin token"
    api() { curl -sS -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' ${2:+-d "$2"} -X "${3:-POST}" "$BASE$1"; }
    local tenant provider
    tenant="$(api /api/v1/admin/tenants '{"name": "LDAP Bench"}' | json 'd["data"]["id"]')"
    provider="$(api "/api/v1/tenants/$tenant/identity-providers" "{\"name\": \"Bench directory\", \"type\": \"LDAP\", \"config\": {\"url\": \"$LDAP_URL\", \"base_dn\": \"$SUFFIX\", \"bind_dn\": \"$ROOT_DN\", \"bind_password\": \"$ROOT_PW\"}}" | json 'd["data"]["id"]')"
    [ -n "$provider" ] || die "provider not created"
    for run in full full-again incremental; do
        local kind=FULL; [ "$run" = incremental ] && kind=INCREMENTAL
        local start=$EPOCHREALTIME job status
        job="$(api "/api/v1/tenants/$tenant/identity-providers/$provider/sync?kind=$kind" | json 'd["data"]["id"]')"
        [ -n "$job" ] || die "sync not started"
        while :; do
            status="$(api "/api/v1/tenants/$tenant/identity-providers/$provider/sync-jobs/$job" "" GET)"
            [ "$(json 'd["data"]["status"]' <<<"$status")" != RUNNING ] && break
            sleep 0.2
        done
        local seconds; seconds="$(python3 -c "print(round($EPOCHREALTIME - $start, 2))")"
        [ "$(json 'd["data"]["status"]' <<<"$status")" = SUCCEEDED ] || die "$run failed: $status"
        echo "$label-$run $seconds $(python3 -c "print(round($ENTRIES / $seconds))") $(json '"%(created)s %(updated)s %(disabled)s %(errors)s" % d["data"]' <<<"$status")" \
            | tee -a "$WORK/results/lines.txt"
    done
    grep -h "LDAP sync job" "$WORK/results/scaikey.$label.log" | sed 's/^/# /'
    note "load after $label: $(cut -d' ' -f1-3 /proc/loadavg); server rss $(awk '/VmHWM/ {print $2 " " $3}' "/proc/$SERVER_PID/status")"
    stop_server
}

echo "NAME seconds entries/s created updated disabled errors"
bench_database sqlite
if [ -n "$BENCH_POSTGRES" ]; then
    command -v psql >/dev/null || die "psql not found (needed to create the PostgreSQL database)"
    eval "$(python3 - "$BENCH_POSTGRES" <<'PY'
import sys
kv = dict(p.split("=", 1) for p in sys.argv[1].split(";") if "=" in p)
print(f"PG_HOST={kv.get('Host','127.0.0.1')} PG_PORT={kv.get('Port','5432')} PG_USER={kv.get('Username','postgres')} PG_PASSWORD='{kv.get('Password','')}'")
PY
)"
    PG_DB="scaikey_ldap_bench_$RUN_TS"
    PG_DB="${PG_DB,,}"
    PGPASSWORD="$PG_PASSWORD" psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -qc "CREATE DATABASE \"$PG_DB\"" || die "could not create $PG_DB"
    bench_database postgres ScaiKey__Database__Provider=Postgres \
        "ConnectionStrings__Default=Host=$PG_HOST;Port=$PG_PORT;Username=$PG_USER;Password=$PG_PASSWORD;Database=$PG_DB"
fi
note "results in $WORK/results"
