#!/usr/bin/env bash
# ScaiKey sign-in benchmarks, optionally side by side with the peers of ../shared/bench in the same run.
#
#   T1  client-credential token: POST /connect/token grant_type=client_credentials, client_secret_basic
#   T2  password sign-in:        POST /connect/token grant_type=password (WEB application, username = email)
#   H1  bare Argon2id hashes/s with the service's parameters (bench/ScaiKey.Bench, 2 threads)
#   S5, S6 (ES256)               better-auth sign-in and oidc-provider client-credential token, from ../shared/bench
#
# Prints "NAME req/s p50_ms p99_ms" per scenario and repeat, then medians and a ratio table.
# Usage: bench/run.sh                     (see bench/README.md for every knob)
#   REPEATS=3 DURATION=10s THREADS=2 CONNS=32 WARMUP=2s SERVER_WARMUP=20s BENCH_PORT=5099 PEERS=1 PEER_N=10000 USERS=20
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
SHARED_BENCH="${SHARED_BENCH:-$ROOT/../shared/bench}"
PEERS_DIR="${PEERS_DIR:-/tmp/scaikey-bench-peers}"
RUN_TS="$(date -u +%Y%m%dT%H%M%SZ)"
WORK="${BENCH_WORK:-/tmp/scaikey-bench-$RUN_TS}"
BASE="http://127.0.0.1:$PORT"
PASSWORD='Bench-Passphrase-2718!'

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
mkdir -p "$WORK/results" "$WORK/data"
LINES="$WORK/results/lines.tsv"
: >"$LINES"

note() { printf '# %s\n' "$*"; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }
command -v wrk >/dev/null || die "wrk not found: apt-get install -y wrk"
command -v curl >/dev/null || die "curl not found: apt-get install -y curl"
command -v python3 >/dev/null || die "python3 not found"

SERVER_PID=""
stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$SERVER_PID" 2>/dev/null
    fi
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=""
}
trap stop_server EXIT

json() { python3 -c 'import sys, json; d = json.load(sys.stdin); print(eval(sys.argv[1], {"d": d}) or "")' "$1"; }

# ---- build (Release, into the work folder, so a concurrent Debug build or test run is not disturbed) ----
note "run $RUN_TS host=$(hostname) cpus=$(nproc) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) wrk=$(wrk -v 2>&1 | head -1 | awk '{print $2}') repeats=$REPEATS wrk -t$THREADS -c$CONNS -d$DURATION (warm-up $WARMUP)"
note "building Release into $WORK"
dotnet publish "$ROOT/src/ScaiKey.Api/ScaiKey.Api.csproj" -c Release -o "$WORK/app" --nologo -v q >"$WORK/results/build.log" 2>&1 \
    || { tail -30 "$WORK/results/build.log" >&2; die "ScaiKey build failed"; }
dotnet publish "$HERE/ScaiKey.Bench/ScaiKey.Bench.csproj" -c Release -o "$WORK/hash" --nologo -v q >>"$WORK/results/build.log" 2>&1 \
    || { tail -30 "$WORK/results/build.log" >&2; die "ScaiKey.Bench build failed"; }

# ---- start ScaiKey on SQLite in a fresh data folder ----
ADMIN_ID="bench-admin"
ADMIN_SECRET="$(head -c 32 /dev/urandom | base64 | tr -d '=+/')"
(
    # The content root is the app folder, so its appsettings.json (quiet framework logging) applies.
    cd "$WORK/app"
    export ASPNETCORE_ENVIRONMENT=Production
    export ScaiKey__DataDirectory="$WORK/data"
    export ScaiKey__KeyEncryptionKey="$(head -c 32 /dev/urandom | base64)"
    export ScaiKey__Bootstrap__ClientId="$ADMIN_ID" ScaiKey__Bootstrap__ClientSecret="$ADMIN_SECRET"
    # The bench measures throughput from one address; the abuse limits would (rightly) stop it.
    export ScaiKey__RateLimits__Enabled=false
    exec dotnet "$WORK/app/ScaiKey.Api.dll" --urls "$BASE"
) >"$WORK/results/scaikey.server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 600); do
    curl -fsS -o /dev/null "$BASE/readyz" 2>/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -30 "$WORK/results/scaikey.server.log" >&2; die "ScaiKey exited"; }
    sleep 0.1
done
curl -fsS -o /dev/null "$BASE/readyz" || die "ScaiKey not ready after 60 s"
note "ScaiKey pid=$SERVER_PID on $BASE (Release, SQLite in $WORK/data)"

# ---- seed through the API: a tenant, a SERVICE application (T1), a WEB application (T2), users ----
ADMIN_TOKEN="$(curl -fsS -u "$ADMIN_ID:$ADMIN_SECRET" -d grant_type=client_credentials "$BASE/connect/token" | json 'd["access_token"]')"
[ -n "$ADMIN_TOKEN" ] || die "no admin token"
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
note "seeded tenant $TENANT, SERVICE client $SERVICE_ID, WEB client $WEB_ID, $USERS users"

basic() { printf 'Authorization: Basic %s' "$(printf '%s:%s' "$1" "$2" | base64 -w0)"; }
T1_AUTH="$(basic "$SERVICE_ID" "$SERVICE_SECRET")"
T2_AUTH="$(basic "$WEB_ID" "$WEB_SECRET")"

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
if [ "$PEERS" = "1" ]; then
    command -v node >/dev/null || die "PEERS=1 needs node and npm (or run with PEERS=0)"
    [ -d "$SHARED_BENCH/peers" ] || die "no peers at $SHARED_BENCH (set SHARED_BENCH or PEERS=0)"
    if [ ! -d "$PEERS_DIR/peers" ]; then
        mkdir -p "$PEERS_DIR" && cp -r "$SHARED_BENCH/." "$PEERS_DIR/" && chmod -R u+w "$PEERS_DIR"
    fi
    for peer in better-auth oidc-provider; do
        if [ ! -d "$PEERS_DIR/peers/$peer/node_modules" ]; then
            note "npm ci in $PEERS_DIR/peers/$peer"
            (cd "$PEERS_DIR/peers/$peer" && npm ci --no-audit --no-fund >"$WORK/results/npm-$peer.log" 2>&1) \
                || { tail -20 "$WORK/results/npm-$peer.log" >&2; die "npm ci failed for $peer"; }
        fi
    done
fi

# run_wrk NAME SCRIPT [wrk args...]: prints "NAME req/s p50 p99" and a detail line, records the line
run_wrk() {
    local name="$1" script="$2"; shift 2
    local out="$WORK/results/$name.r$REPEAT.txt"
    export BENCH_LUA_LIB="$HERE/lua/report.lua" BENCH_USERS_FILE="$USERS_FILE" BENCH_PASSWORD="$PASSWORD"
    if [ "$WARMUP" != "0" ]; then
        wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" --timeout "$WRK_TIMEOUT" -s "$script" "$@" "$BASE" >/dev/null 2>&1
    fi
    local cpu_before; cpu_before="$(server_cpu_ticks)"
    wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --timeout "$WRK_TIMEOUT" --latency -s "$script" "$@" "$BASE" >"$out" 2>&1
    local cpu_after; cpu_after="$(server_cpu_ticks)"
    local result; result="$(grep '^RESULT ' "$out" | tail -1)"
    [ -n "$result" ] || { echo "$name ERROR (see $out)"; return 1; }
    set -- $result
    echo "$name $2 $3 $4"
    echo "$name $REPEAT $2 $3 $4" >>"$LINES"
    shift 4
    local warn=""
    [[ " $* " =~ \ (non2xx|connect_err|read_err|write_err|timeouts)=[1-9] ]] && warn="  WARN: errors or non-2xx, figures not valid"
    # Server CPU in cores over the run: about 2 means CPU-bound here; well below means it waits (disk, locks).
    echo "# $name $* server_cpu_cores=$(python3 -c "print(round(($cpu_after - $cpu_before) / $(getconf CLK_TCK) / $(duration_seconds), 2))")$warn"
}

server_cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
duration_seconds() { python3 -c "import re,sys; v,u=re.fullmatch(r'([0-9.]+)([smh]?)', sys.argv[1]).groups(); print(float(v)*{'':1,'s':1,'m':60,'h':3600}[u])" "$DURATION"; }

# run_peer DIR ENV...: runs a peer's bench.sh, echoes its lines, records S5/S6
run_peer() {
    local dir="$1"; shift
    env "$@" RESULTS_DIR="$WORK/results/peers-r$REPEAT" DURATION="$DURATION" THREADS="$THREADS" CONNS="$CONNS" WARMUP="$WARMUP" \
        "$PEERS_DIR/peers/$dir/bench.sh" 2>&1 | tee -a "$WORK/results/$dir.log" | while IFS= read -r line; do
        case "$line" in
            "S5 "[0-9]*) echo "$line"; set -- $line; echo "S5 $REPEAT $2 $3 $4" >>"$LINES" ;;
            "S6 "[0-9]*) echo "S6-ES256 ${line#S6 }"; set -- $line; echo "S6-ES256 $REPEAT $2 $3 $4" >>"$LINES" ;;
            "S"[0-9]" "*|"#"*) echo "$line" ;;
        esac
    done
}

# .NET compiles hot code again, optimised, in the background; under full load on 2 cores that takes a while, and
# the first repeat measured half the later ones. Warm the server up once, unreported, before the repeats.
if [ "$SERVER_WARMUP" != "0" ]; then
    note "warming the server up: T1 for $SERVER_WARMUP$([ "$RUN_T2" = "1" ] && echo ", T2 for 5s") (not reported)"
    export BENCH_LUA_LIB="$HERE/lua/report.lua" BENCH_USERS_FILE="$USERS_FILE" BENCH_PASSWORD="$PASSWORD"
    wrk -t"$THREADS" -c"$CONNS" -d"$SERVER_WARMUP" -s "$HERE/lua/t1_client_credentials.lua" -H "$T1_AUTH" "$BASE" >/dev/null 2>&1
    [ "$RUN_T2" = "1" ] && wrk -t"$THREADS" -c"$CONNS" -d5s -s "$HERE/lua/t2_password.lua" -H "$T2_AUTH" "$BASE" >/dev/null 2>&1
fi

for ((REPEAT = 1; REPEAT <= REPEATS; REPEAT++)); do
    note "--- repeat $REPEAT/$REPEATS ---"
    run_wrk T1 "$HERE/lua/t1_client_credentials.lua" -H "$T1_AUTH"
    [ "$RUN_T2" = "1" ] && run_wrk T2 "$HERE/lua/t2_password.lua" -H "$T2_AUTH"
    H1_LINE="$(dotnet "$WORK/hash/ScaiKey.Bench.dll" "$THREADS" "$H1_SECONDS")"
    echo "$H1_LINE"
    set -- $(head -1 <<<"$H1_LINE")
    echo "H1 $REPEAT $2 $3 $4" >>"$LINES"
    if [ "$PEERS" = "1" ]; then
        seed=0; [ "$REPEAT" -gt 1 ] && seed=1
        # Their own ports: PORT may be set in this environment for something else.
        run_peer better-auth PORT=4100 N="$PEER_N" SKIP_SEED="$seed"
        run_peer oidc-provider PORT=4200 KEY_ALG=ES256
    fi
done
stop_server

note "medians over $REPEATS repeat(s): NAME req/s p50_ms p99_ms (min req/s)"
python3 - "$LINES" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, _, rps, p50, p99 = line.split()
    rows.setdefault(name, []).append((float(rps), float(p50), float(p99)))
med = {}
for name, values in rows.items():
    med[name] = statistics.median(v[0] for v in values)
    print("MEDIAN %s %.1f %.2f %.2f (min %.1f, n=%d)" % (name, med[name], statistics.median(v[1] for v in values),
          statistics.median(v[2] for v in values), min(v[0] for v in values), len(values)))
print("# ratios (medians of this run)   value   target")
for a, b, target, label in [("T1", "S6-ES256", ">= 1.5", "T1/S6-ES256"), ("T2", "S5", ">= 3", "T2/S5"), ("T2", "H1", ">= 0.85", "T2/H1")]:
    if a in med and b in med and med[b] > 0:
        print("RATIO %-12s %7.2f   %s" % (label, med[a] / med[b], target))
    else:
        print("RATIO %-12s     n/a   %s (%s or %s not measured)" % (label, target, a, b))
EOF
note "raw output in $WORK/results"
