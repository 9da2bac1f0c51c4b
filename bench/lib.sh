# Shared by bench/run.sh and bench/scale.sh (sourced, not executed).
#
# The sourcing script sets HERE (bench/), ROOT (repo), WORK (work folder, with results/), LINES (lines.tsv),
# THREADS, CONNS, DURATION, WARMUP, WRK_TIMEOUT, BASE (the service's URL), PEERS_DIR, SHARED_BENCH, and REPEAT
# before run_wrk / run_peer.

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
BUILD_LOCK="${BUILD_LOCK:-/tmp/scaikey-build.lock}"

note() { printf '# %s\n' "$*"; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

require_tools() {
    command -v wrk >/dev/null || die "wrk not found: apt-get install -y wrk"
    command -v curl >/dev/null || die "curl not found: apt-get install -y curl"
    command -v python3 >/dev/null || die "python3 not found"
}

# json EXPR: evaluates a Python expression over the JSON document on stdin (bound to d); prints "" for None/False.
json() { python3 -c 'import sys, json; d = json.load(sys.stdin); print(eval(sys.argv[1], {"d": d}) or "")' "$1"; }

# locked CMD...: runs a build under the machine-wide build lock (other agents build on the same 2 cores).
locked() {
    if command -v flock >/dev/null; then flock "$BUILD_LOCK" "$@"; else "$@"; fi
}

# publish_service DEST [SOURCE_ROOT]: dotnet publish -c Release of the service (of SOURCE_ROOT, default the repo)
# into DEST (so a concurrent Debug build or test run is not disturbed); the log goes to $WORK/results/build.log.
publish_service() {
    locked dotnet publish "${2:-$ROOT}/src/ScaiKey.Api/ScaiKey.Api.csproj" -c Release -o "$1" --nologo -v q >>"$WORK/results/build.log" 2>&1 \
        || { tail -30 "$WORK/results/build.log" >&2; die "ScaiKey build failed"; }
}

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

# start_service APP_DIR LOG [NAME=VALUE...]: starts the published service on $BASE in the background (SERVER_PID),
# Production environment, with the given configuration, and waits for /readyz (60 s).
start_service() {
    local app="$1" log="$2"; shift 2
    (
        # The content root is the app folder, so its appsettings.json (quiet framework logging) applies.
        cd "$app"
        exec env ASPNETCORE_ENVIRONMENT=Production "$@" dotnet "$app/ScaiKey.Api.dll" --urls "$BASE"
    ) >"$log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 600); do
        curl -fsS -o /dev/null "$BASE/readyz" 2>/dev/null && break
        kill -0 "$SERVER_PID" 2>/dev/null || { tail -30 "$log" >&2; die "ScaiKey exited"; }
        sleep 0.1
    done
    curl -fsS -o /dev/null "$BASE/readyz" || die "ScaiKey not ready after 60 s"
}

server_cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
duration_seconds() { python3 -c "import re,sys; v,u=re.fullmatch(r'([0-9.]+)([smh]?)', sys.argv[1]).groups(); print(float(v)*{'':1,'s':1,'m':60,'h':3600}[u])" "$DURATION"; }

# Waits, at most SETTLE_MAX (10) seconds, until the machine is quiet: dirty pages written back and the CPUs at
# least 90 % idle over half a second. Otherwise what one scenario leaves behind (a peer's database pages still
# being written back, a stopping process) is measured in the next one. SETTLE=0 skips it.
settle() {
    [ "${SETTLE:-1}" = "0" ] && return 0
    sync
    local deadline=$((SECONDS + ${SETTLE_MAX:-10})) a b i total idle
    while [ "$SECONDS" -lt "$deadline" ]; do
        read -ra a < /proc/stat; sleep 0.5; read -ra b < /proc/stat
        total=0
        for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
        idle=$((b[4] - a[4] + b[5] - a[5]))
        [ "$total" -gt 0 ] && [ $((idle * 100 / total)) -ge 90 ] && return 0
    done
    note "settle: the machine was not quiet within ${SETTLE_MAX:-10}s; measuring anyway"
}

# run_wrk NAME SCRIPT [wrk args...]: prints "NAME req/s p50 p99" and a detail line, records "NAME REPEAT req/s p50 p99"
# in $LINES. The lua scripts find the shared report code through BENCH_LUA_LIB. Returns 1 when wrk gave no result,
# 2 when there were errors or non-2xx answers.
run_wrk() {
    local name="$1" script="$2"; shift 2
    local out="${WRK_OUT_DIR:-$WORK/results}/$name.r$REPEAT.txt"
    export BENCH_LUA_LIB="$HERE/lua/report.lua"
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
    local warn="" rc=0
    [[ " $* " =~ \ (non2xx|connect_err|read_err|write_err|timeouts)=[1-9] ]] && { warn="  WARN: errors or non-2xx, figures not valid"; rc=2; }
    # Server CPU in cores over the run: about 2 means CPU-bound here; well below means it waits (disk, locks).
    local cores; cores="$(python3 -c "print(round(($cpu_after - $cpu_before) / $(getconf CLK_TCK) / $(duration_seconds), 3))")"
    echo "# $name $* server_cpu_cores=$cores$warn"
    echo "$name $REPEAT $cores" >>"$CPU_LINES"
    return $rc
}

# start_bench_service: starts the published service in $WORK/app on SQLite in a fresh $WORK/data with a bootstrap
# platform-admin client and the abuse limits off (a bench sends everything from one address, which the limits would
# rightly stop), and sets ADMIN_TOKEN for seeding through the API and BENCH_KEK (the key-encryption key).
start_bench_service() {
    local admin_id="bench-admin" admin_secret
    admin_secret="$(head -c 32 /dev/urandom | base64 | tr -d '=+/')"
    # Kept for seeding that seals secrets the way the service does (T3's TOTP factors).
    BENCH_KEK="$(head -c 32 /dev/urandom | base64)"
    start_service "$WORK/app" "$WORK/results/scaikey.server.log" \
        ScaiKey__DataDirectory="$WORK/data" \
        ScaiKey__KeyEncryptionKey="$BENCH_KEK" \
        ScaiKey__Bootstrap__ClientId="$admin_id" ScaiKey__Bootstrap__ClientSecret="$admin_secret" \
        ScaiKey__RateLimits__Enabled=false
    note "ScaiKey pid=$SERVER_PID on $BASE (Release, SQLite in $WORK/data)"
    ADMIN_TOKEN="$(curl -fsS -u "$admin_id:$admin_secret" -d grant_type=client_credentials "$BASE/connect/token" | json 'd["access_token"]')"
    [ -n "$ADMIN_TOKEN" ] || die "no admin token"
}

# sample_cpu PID FILE: appends "unix_seconds cpu_ticks" of PID (all its threads) every 0.1 s until it exits, so the
# CPU a peer's server spent in one scenario can be cut out of its whole run afterwards (peer_cpu_cores).
sample_cpu() {
    local pid="$1" file="$2"
    while [ -r "/proc/$pid/stat" ]; do
        printf '%s %s\n' "$EPOCHREALTIME" "$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null)" >>"$file" || break
        sleep 0.1
    done
}

# peer_cpu_cores SAMPLES WRK_OUTPUT: cores the peer's server used over the DURATION that ended when wrk wrote its
# report (the file's modification time), from the samples of sample_cpu.
peer_cpu_cores() {
    python3 - "$1" "$2" "$(duration_seconds)" "$(getconf CLK_TCK)" <<'PY'
import os, sys
samples = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if len(l.split()) == 2]
end = os.path.getmtime(sys.argv[2]); duration = float(sys.argv[3]); hz = float(sys.argv[4])
def at(t):
    before = [s for s in samples if s[0] <= t]
    return before[-1] if before else samples[0]
(t0, c0), (t1, c1) = at(end - duration), at(end)
print(round((c1 - c0) / hz / (t1 - t0), 3) if t1 > t0 else "nan")
PY
}

# copy_shared_bench: a writable copy of ../shared/bench (peers and baseline) in $PEERS_DIR, made once.
copy_shared_bench() {
    [ -d "$SHARED_BENCH/peers" ] || die "no peers at $SHARED_BENCH (set SHARED_BENCH or PEERS=0)"
    if [ ! -d "$PEERS_DIR/peers" ]; then
        mkdir -p "$PEERS_DIR" && cp -r "$SHARED_BENCH/." "$PEERS_DIR/" && chmod -R u+w "$PEERS_DIR"
    fi
    if [ ! -d "$PEERS_DIR/baseline" ] && [ -d "$SHARED_BENCH/baseline" ]; then
        cp -r "$SHARED_BENCH/baseline" "$PEERS_DIR/" && chmod -R u+w "$PEERS_DIR/baseline"
    fi
}

# setup_peers PEER...: copy_shared_bench, then npm ci once per peer.
setup_peers() {
    command -v node >/dev/null || die "PEERS=1 needs node and npm (or run with PEERS=0)"
    copy_shared_bench
    local peer
    for peer in "$@"; do
        if [ ! -d "$PEERS_DIR/peers/$peer/node_modules" ]; then
            note "npm ci in $PEERS_DIR/peers/$peer"
            (cd "$PEERS_DIR/peers/$peer" && npm ci --no-audit --no-fund >"$WORK/results/npm-$peer.log" 2>&1) \
                || { tail -20 "$WORK/results/npm-$peer.log" >&2; die "npm ci failed for $peer"; }
        fi
    done
}

# run_peer DIR RECORD ENV...: runs a peer's bench.sh, echoes its scenario and comment lines, and records in $LINES
# the scenarios named in RECORD ("S5 S6=S6-ES256": record S5 as S5, S6 as S6-ES256, printed under that name too).
run_peer() {
    local dir="$1" record="$2"; shift 2
    env "$@" RESULTS_DIR="$WORK/results/peers-r$REPEAT" DURATION="$DURATION" THREADS="$THREADS" CONNS="$CONNS" WARMUP="$WARMUP" \
        "$PEERS_DIR/peers/$dir/bench.sh" 2>&1 | tee -a "$WORK/results/$dir.log" | while IFS= read -r line; do
        case "$line" in
            "# "*" server pid="[0-9]*)
                # Sample the peer's server CPU for the per-core comparison (stops when the server does).
                local pid="${line#*server pid=}"; pid="${pid%% *}"
                sample_cpu "$pid" "$WORK/results/peers-r$REPEAT/$dir.cpu" &
                echo "$line"
                ;;
            "S"[0-9]" "[0-9]*)
                local id="${line%% *}" as="" r
                for r in $record; do
                    [ "${r%%=*}" = "$id" ] && as="${r#*=}"
                done
                if [ -n "$as" ]; then
                    echo "$as ${line#* }"
                    set -- $line
                    echo "$as $REPEAT $2 $3 $4" >>"$LINES"
                    local wrk_out="$WORK/results/peers-r$REPEAT/$id.txt" samples="$WORK/results/peers-r$REPEAT/$dir.cpu"
                    if [ -f "$wrk_out" ] && [ -s "$samples" ]; then
                        local cores; cores="$(peer_cpu_cores "$samples" "$wrk_out")"
                        echo "# $as server_cpu_cores=$cores"
                        echo "$as $REPEAT $cores" >>"$CPU_LINES"
                    fi
                else
                    echo "$line"
                fi
                ;;
            "S"[0-9]" "*|"#"*) echo "$line" ;;
        esac
    done
}
