#!/usr/bin/env bash
# ScaiKey sign-in benchmarks, optionally side by side with the peers of ../shared/bench in the same run.
#
#   T1  client-credential token: POST /connect/token grant_type=client_credentials, client_secret_basic
#   T2  password sign-in:        POST /connect/token grant_type=password (WEB application, username = email)
#   T3  password + TOTP sign-in: the password grant (400 mfa_required + mfa_token), then the mfa-otp grant with the
#                                current TOTP code; reported in completed sign-ins/s (two requests each)
#   H1  bare Argon2id hashes/s with the service's parameters and hasher (bench/ScaiKey.Bench, 2 threads)
#   H1-libsodium  the same with libsodium's crypto_pwhash_str, for reference (not a target)
#   S5, S6 (ES256)               better-auth sign-in and oidc-provider client-credential token, from ../shared/bench
#
# Prints "NAME req/s p50_ms p99_ms" per scenario and repeat, then medians and a ratio table.
# Usage: bench/run.sh                     (see bench/README.md for every knob)
#   REPEATS=3 DURATION=10s THREADS=2 CONNS=32 WARMUP=2s SERVER_WARMUP=20s T2_WARMUP=15s BENCH_PORT=5099 PEERS=1 PEER_N=10000 USERS=20
#   T3=1 T3_USERS=4000 T3_WARMUP=10s
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
REPEATS="${REPEATS:-3}"
DURATION="${DURATION:-10s}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-32}"
WARMUP="${WARMUP:-2s}"
WRK_TIMEOUT="${WRK_TIMEOUT:-10s}"
PORT="${BENCH_PORT:-5099}"
PEERS="${PEERS:-1}"
PEER_N="${PEER_N:-10000}"
USERS="${USERS:-20}"
H1_SECONDS="${H1_SECONDS:-10}"
SERVER_WARMUP="${SERVER_WARMUP:-20s}"
# At ~200 sign-ins/s with both cores hashing, the sign-in path is re-compiled (tier 1) slowly: after 5 s of T2 the
# first repeat still measured 20 % under the later ones.
T2_WARMUP="${T2_WARMUP:-15s}"
# T3: a user's TOTP code works once per 30-second step, so T3 needs about (sign-ins/s) x (seconds of a run within
# one step) users; runs start on a step boundary, so a 10 s run at 350 sign-ins/s needs 3,500.
T3="${T3:-1}"
T3_USERS="${T3_USERS:-4000}"
T3_WARMUP="${T3_WARMUP:-10s}"
SHARED_BENCH="${SHARED_BENCH:-$ROOT/../shared/bench}"
PEERS_DIR="${PEERS_DIR:-/tmp/scaikey-bench-peers}"
RUN_TS="$(date -u +%Y%m%dT%H%M%SZ)"
WORK="${BENCH_WORK:-/tmp/scaikey-bench-$RUN_TS}"
BASE="http://127.0.0.1:$PORT"
PASSWORD='Bench-Passphrase-2718!'

# note, die, json, publish_service, start_service, stop_server, run_wrk, setup_peers, run_peer
source "$HERE/lib.sh"
mkdir -p "$WORK/results" "$WORK/data"
LINES="$WORK/results/lines.tsv"
CPU_LINES="$WORK/results/cpu.tsv"
: >"$LINES"
: >"$CPU_LINES"
require_tools
trap stop_server EXIT

# ---- build (Release, into the work folder, so a concurrent Debug build or test run is not disturbed) ----
note "run $RUN_TS host=$(hostname) cpus=$(nproc) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) wrk=$(wrk -v 2>&1 | head -1 | awk '{print $2}') repeats=$REPEATS wrk -t$THREADS -c$CONNS -d$DURATION (warm-up $WARMUP)"
note "building Release into $WORK"
publish_service "$WORK/app"
locked dotnet publish "$HERE/ScaiKey.Bench/ScaiKey.Bench.csproj" -c Release -o "$WORK/hash" --nologo -v q >>"$WORK/results/build.log" 2>&1 \
    || { tail -30 "$WORK/results/build.log" >&2; die "ScaiKey.Bench build failed"; }

# ---- start ScaiKey on SQLite in a fresh data folder, then seed through the API: a tenant, a SERVICE application (T1),
# a WEB application (T2), users ----
start_bench_service
api() { curl -sS -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' -d "$2" "$BASE$1"; }
TENANT="$(api /api/v1/admin/tenants '{"name": "Bench Corp"}' | json 'd["data"]["id"]')"
[ -n "$TENANT" ] || die "tenant not created"
SERVICE="$(api "/api/v1/tenants/$TENANT/applications" '{"name": "Bench service", "type": "SERVICE"}')"
SERVICE_ID="$(json 'd["data"]["client_id"]' <<<"$SERVICE")"
SERVICE_SECRET="$(json 'd["data"]["client_secret"]' <<<"$SERVICE")"
WEB="$(api "/api/v1/tenants/$TENANT/applications" '{"name": "Bench web", "type": "WEB", "grant_types": ["authorization_code", "refresh_token", "password"], "redirect_uris": ["https://app.bench.example/callback"]}')"
WEB_ID="$(json 'd["data"]["client_id"]' <<<"$WEB")"
WEB_SECRET="$(json 'd["data"]["client_secret"]' <<<"$WEB")"
[ -n "$SERVICE_SECRET" ] && [ -n "$WEB_SECRET" ] || die "applications not created: $SERVICE $WEB"
USERS_FILE="$WORK/users.txt"
: >"$USERS_FILE"
for i in $(seq "$USERS"); do
    email="bench.user$i@bench-scaikey.example"
    created="$(api "/api/v1/tenants/$TENANT/users" "{\"email\": \"$email\", \"password\": \"$PASSWORD\"}" | json 'd["data"]["status"]')"
    [ "$created" = "ACTIVE" ] || die "user $email not created"
    echo "$email" >>"$USERS_FILE"
done
export BENCH_USERS_FILE="$USERS_FILE" BENCH_PASSWORD="$PASSWORD"
note "seeded tenant $TENANT, SERVICE client $SERVICE_ID, WEB client $WEB_ID, $USERS users"

basic() { printf 'Authorization: Basic %s' "$(printf '%s:%s' "$1" "$2" | base64 -w0)"; }
T1_AUTH="$(basic "$SERVICE_ID" "$SERVICE_SECRET")"
T2_AUTH="$(basic "$WEB_ID" "$WEB_SECRET")"

# ---- T3: its own tenant and WEB application (the mfa-otp grant comes with the password grant), T3_USERS users with
# a confirmed TOTP factor (bench/ScaiKey.Bench t3-seed: users through the API, factors sealed into the database) ----
RUN_T3=0
if [ "$T3" = "1" ]; then
    T3_TENANT="$(api /api/v1/admin/tenants '{"name": "Bench MFA Corp"}' | json 'd["data"]["id"]')"
    T3_WEB="$(api "/api/v1/tenants/$T3_TENANT/applications" '{"name": "Bench MFA web", "type": "WEB", "grant_types": ["authorization_code", "refresh_token", "password"], "redirect_uris": ["https://app.bench.example/callback"]}')"
    T3_AUTH="$(basic "$(json 'd["data"]["client_id"]' <<<"$T3_WEB")" "$(json 'd["data"]["client_secret"]' <<<"$T3_WEB")")"
    note "seeding T3: $T3_USERS users with a TOTP factor (users through the API: one hash each)"
    dotnet "$WORK/hash/ScaiKey.Bench.dll" t3-seed "$BASE" "$ADMIN_TOKEN" "$T3_TENANT" "$T3_USERS" "$PASSWORD" "$WORK/data/scaikey.db" "$BENCH_KEK" "$WORK" \
        || die "T3 seeding failed"
    export BENCH_T3_USERS_FILE="$WORK/t3-users.txt" BENCH_T3_CODES_FILE="$WORK/t3-codes.txt" BENCH_THREADS="$THREADS"
    # Sanity with the last user (the runs reach it last): mfa_required with an mfa_token, then tokens for the code.
    T3_EMAIL="$(tail -1 "$BENCH_T3_USERS_FILE")"
    T3_OUT="$(curl -sS -H "$T3_AUTH" --data-urlencode grant_type=password --data-urlencode "username=$T3_EMAIL" \
        --data-urlencode "password=$PASSWORD" "$BASE/connect/token")"
    [ "$(json 'd.get("error")' <<<"$T3_OUT")" = "mfa_required" ] || die "T3 sanity (password step) failed: $T3_OUT"
    T3_CODE="$(python3 -c 'import sys, time; l = open(sys.argv[1]).read().split(); print(l[int(time.time() // 30) - int(l[0]) + 1])' "$BENCH_T3_CODES_FILE")"
    T3_OUT="$(curl -sS -H "$T3_AUTH" --data-urlencode grant_type=urn:scaikey:params:oauth:grant-type:mfa-otp \
        --data-urlencode "mfa_token=$(json 'd["mfa_token"]' <<<"$T3_OUT")" --data-urlencode "otp=$T3_CODE" "$BASE/connect/token")"
    [ -n "$(json 'd.get("access_token")' <<<"$T3_OUT")" ] || die "T3 sanity (mfa-otp step) failed: $T3_OUT"
    note "sanity T3 ok: $(json '"keys=%s" % ",".join(sorted(d))' <<<"$T3_OUT")"
    RUN_T3=1
fi

# The next 30-second TOTP step: every T3 user has a fresh code again (a warm-up used some in the current one).
next_totp_step() { sleep "$(( 30 - $(date +%s) % 30 + 1 ))"; }

# run_t3: a warm-up like run_wrk's, then the measured run from the start of a fresh step.
run_t3() {
    export BENCH_LUA_LIB="$HERE/lua/report.lua"
    [ "$WARMUP" != "0" ] && wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" --timeout "$WRK_TIMEOUT" -s "$HERE/lua/t3_mfa.lua" -H "$T3_AUTH" "$BASE" >/dev/null 2>&1
    next_totp_step
    WARMUP=0 run_wrk T3 "$HERE/lua/t3_mfa.lua" -H "$T3_AUTH"
}

# ---- sanity: a real token for T1; T2 only if the password grant answers ----
T1_OUT="$(curl -sS -H "$T1_AUTH" -d grant_type=client_credentials "$BASE/connect/token")"
[ -n "$(json 'd.get("access_token")' <<<"$T1_OUT")" ] || die "T1 sanity failed: $T1_OUT"
note "sanity T1 ok: $(json '"token_type=%s expires_in=%s len=%d" % (d["token_type"], d["expires_in"], len(d["access_token"]))' <<<"$T1_OUT")"
RUN_T2=1
T2_OUT="$(curl -sS -H "$T2_AUTH" --data-urlencode grant_type=password --data-urlencode "username=$(head -1 "$USERS_FILE")" \
    --data-urlencode "password=$PASSWORD" "$BASE/connect/token")"
if [ -n "$(json 'd.get("access_token")' <<<"$T2_OUT")" ]; then
    note "sanity T2 ok: $(json '"token_type=%s keys=%s" % (d["token_type"], ",".join(sorted(d)))' <<<"$T2_OUT")"
elif [ "$(json 'd.get("error")' <<<"$T2_OUT")" = "unsupported_grant_type" ]; then
    RUN_T2=0
    note "T2 SKIPPED: /connect/token answers unsupported_grant_type for grant_type=password (the password grant is not built yet)"
else
    die "T2 sanity failed: $T2_OUT"
fi

# ---- peers: a copy of ../shared/bench, npm ci once ----
[ "$PEERS" = "1" ] && setup_peers better-auth oidc-provider

# .NET compiles hot code again, optimised, in the background; under full load on 2 cores that takes a while, and
# the first repeat measured half the later ones. Warm the server up once, unreported, before the repeats.
if [ "$SERVER_WARMUP" != "0" ]; then
    note "warming the server up: T1 for $SERVER_WARMUP$([ "$RUN_T2" = "1" ] && echo ", T2 for $T2_WARMUP") (not reported)"
    export BENCH_LUA_LIB="$HERE/lua/report.lua"
    wrk -t"$THREADS" -c"$CONNS" -d"$SERVER_WARMUP" -s "$HERE/lua/t1_client_credentials.lua" -H "$T1_AUTH" "$BASE" >/dev/null 2>&1
    [ "$RUN_T2" = "1" ] && wrk -t"$THREADS" -c"$CONNS" -d"$T2_WARMUP" -s "$HERE/lua/t2_password.lua" -H "$T2_AUTH" "$BASE" >/dev/null 2>&1
    [ "$RUN_T3" = "1" ] && wrk -t"$THREADS" -c"$CONNS" -d"$T3_WARMUP" -s "$HERE/lua/t3_mfa.lua" -H "$T3_AUTH" "$BASE" >/dev/null 2>&1
fi

for ((REPEAT = 1; REPEAT <= REPEATS; REPEAT++)); do
    note "--- repeat $REPEAT/$REPEATS ---"
    settle; run_wrk T1 "$HERE/lua/t1_client_credentials.lua" -H "$T1_AUTH"
    [ "$RUN_T2" = "1" ] && settle && run_wrk T2 "$HERE/lua/t2_password.lua" -H "$T2_AUTH"
    # H1 right after T2, the two halves of T2/H1: on a shared host the hash rate drifts by a fifth within a minute
    # (neighbours' use of the L3), and with T3 between them the ratio measured the drift as much as the service.
    settle; H1_LINE="$(dotnet "$WORK/hash/ScaiKey.Bench.dll" "$THREADS" "$H1_SECONDS")"
    echo "$H1_LINE"
    set -- $(head -1 <<<"$H1_LINE")
    echo "H1 $REPEAT $2 $3 $4" >>"$LINES"
    [ "$RUN_T3" = "1" ] && settle && run_t3
    settle; H1L_LINE="$(dotnet "$WORK/hash/ScaiKey.Bench.dll" "$THREADS" "$H1_SECONDS" libsodium)"
    echo "$H1L_LINE"
    set -- $(head -1 <<<"$H1L_LINE")
    echo "H1-libsodium $REPEAT $2 $3 $4" >>"$LINES"
    if [ "$PEERS" = "1" ]; then
        seed=0; [ "$REPEAT" -gt 1 ] && seed=1
        # Their own ports: PORT may be set in this environment for something else.
        settle; run_peer better-auth S5 PORT=4100 N="$PEER_N" SKIP_SEED="$seed"
        settle; run_peer oidc-provider S6=S6-ES256 PORT=4200 KEY_ALG=ES256
    fi
done
stop_server

note "medians over $REPEATS repeat(s): NAME req/s p50_ms p99_ms (min req/s)"
python3 - "$LINES" "$CPU_LINES" <<'EOF'
import statistics, sys
rows = {}
cpu = {}
for line in open(sys.argv[2]):
    name, repeat, cores = line.split()
    if cores != "nan":
        cpu[(name, repeat)] = float(cores)
for line in open(sys.argv[1]):
    name, repeat, rps, p50, p99 = line.split()
    rows.setdefault(name, []).append((float(rps), float(p50), float(p99)))
    if (name, repeat) in cpu and cpu[(name, repeat)] > 0:
        rows.setdefault(name + "/core", []).append((float(rps) / cpu[(name, repeat)], cpu[(name, repeat)], 0.0))
med = {}
for name, values in rows.items():
    med[name] = statistics.median(v[0] for v in values)
    print("MEDIAN %s %.1f %.2f %.2f (min %.1f, n=%d)" % (name, med[name], statistics.median(v[1] for v in values),
          statistics.median(v[2] for v in values), min(v[0] for v in values), len(values)))
print("# ratios (medians of this run)   value   target")
for a, b, target, label in [("T1", "S6-ES256", ">= 1.5", "T1/S6-ES256"), ("T2", "S5", ">= 3", "T2/S5"), ("T2", "H1", ">= 0.9", "T2/H1"), ("T3", "T2", ">= 0.9", "T3/T2"),
                          ("T1/core", "S6-ES256/core", ">= 1.2", "T1/S6 per core"),
                          ("T2", "H1-libsodium", "(reference)", "T2/H1-libsodium"), ("H1", "H1-libsodium", "(reference)", "H1/H1-libsodium")]:
    if a in med and b in med and med[b] > 0:
        print("RATIO %-16s %7.2f   %s" % (label, med[a] / med[b], target))
    else:
        print("RATIO %-16s     n/a   %s (%s or %s not measured)" % (label, target, a, b))
EOF
note "raw output in $WORK/results"
