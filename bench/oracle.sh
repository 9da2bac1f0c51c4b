#!/usr/bin/env bash
# Issue 13, point 5: is a failed sign-in an oracle? Times ATTEMPTS (200) failed password-grant sign-ins each of
#   unknown   an email no user has
#   wrong     a wrong password for an ACTIVE user
#   locked    the RIGHT password for a LOCKED user
#   disabled  the RIGHT password for a DISABLED user
# interleaved (shuffled rounds, one keep-alive connection, after WARMUP unreported rounds), against the service
# started here on SQLite on loopback with its default hashing parameters and the abuse limits off (every attempt
# fails, from one address). Prints the medians, their deviation from "wrong", and whether every answer (status,
# content type, body) was identical. Usage: bench/oracle.sh   (ATTEMPTS=200 WARMUP=20 BENCH_PORT=5098)
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
ATTEMPTS="${ATTEMPTS:-200}"
WARMUP_ROUNDS="${WARMUP:-20}"
PORT="${BENCH_PORT:-5098}"
RUN_TS="$(date -u +%Y%m%dT%H%M%SZ)"
WORK="${BENCH_WORK:-/tmp/scaikey-oracle-$RUN_TS}"
BASE="http://127.0.0.1:$PORT"
PASSWORD='Bench-Passphrase-2718!'
WRONG='Not-The-Passphrase-1!'
# Wrong passwords are spread over users, so none reaches the lockout limit (100) during the run.
WRONG_USERS=8

source "$HERE/lib.sh"
mkdir -p "$WORK/results" "$WORK/data"
command -v curl >/dev/null || die "curl not found"
command -v python3 >/dev/null || die "python3 not found"
trap stop_server EXIT

note "run $RUN_TS host=$(hostname) cpus=$(nproc) attempts=$ATTEMPTS warm-up rounds=$WARMUP_ROUNDS"
publish_service "$WORK/app"
start_bench_service
api() { curl -sS -X "$1" -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' -d "$3" "$BASE$2"; }
TENANT="$(api POST /api/v1/admin/tenants '{"name": "Oracle Corp", "settings": {"lockout_policy": {"max_failed_attempts": 100, "lockout_duration_minutes": 0}}}' | json 'd["data"]["id"]')"
[ -n "$TENANT" ] || die "tenant not created"
WEB="$(api POST "/api/v1/tenants/$TENANT/applications" '{"name": "Oracle web", "type": "WEB", "grant_types": ["authorization_code", "refresh_token", "password"], "redirect_uris": ["https://app.bench.example/callback"]}')"
WEB_ID="$(json 'd["data"]["client_id"]' <<<"$WEB")"
WEB_SECRET="$(json 'd["data"]["client_secret"]' <<<"$WEB")"
[ -n "$WEB_SECRET" ] || die "application not created: $WEB"
user() {
    local id
    id="$(api POST "/api/v1/tenants/$TENANT/users" "{\"email\": \"$1\", \"password\": \"$PASSWORD\"}" | json 'd["data"]["id"]')"
    [ -n "$id" ] || die "user $1 not created"
    [ "$2" = "ACTIVE" ] || [ "$(api PUT "/api/v1/tenants/$TENANT/users/$id/status" "{\"status\": \"$2\"}" | json 'd["data"]["status"]')" = "$2" ] \
        || die "user $1 not set $2"
}
wrong_pairs=""
for i in $(seq "$WRONG_USERS"); do
    user "wrong$i@oracle.example" ACTIVE
    wrong_pairs="$wrong_pairs${wrong_pairs:+,}wrong$i@oracle.example:$WRONG"
done
user "locked@oracle.example" LOCKED
user "disabled@oracle.example" DISABLED
# Control: the right password of an active user signs in (the scenarios below are failures, not a broken grant).
OK="$(curl -sS -u "$WEB_ID:$WEB_SECRET" --data-urlencode grant_type=password --data-urlencode username=wrong1@oracle.example \
    --data-urlencode "password=$PASSWORD" "$BASE/connect/token" | json 'd.get("access_token")')"
[ -n "$OK" ] || die "control sign-in failed"
note "seeded tenant $TENANT: $WRONG_USERS active users, one LOCKED, one DISABLED; control sign-in ok"

unknown_pairs=""
for i in $(seq 8); do unknown_pairs="$unknown_pairs${unknown_pairs:+,}nobody$i@oracle.example:$PASSWORD"; done
note "load average before: $(cut -d' ' -f1-3 /proc/loadavg) (timings on a busy shared machine spread widely)"
python3 "$HERE/oracle.py" "$BASE" "$WEB_ID" "$WEB_SECRET" "$ATTEMPTS" "$WARMUP_ROUNDS" \
    "wrong=$wrong_pairs" "unknown=$unknown_pairs" "locked=locked@oracle.example:$PASSWORD" "disabled=disabled@oracle.example:$PASSWORD" \
    | tee "$WORK/results/oracle.txt"
status=${PIPESTATUS[0]}
note "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
note "results in $WORK/results"
exit "$status"
