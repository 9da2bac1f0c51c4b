#!/usr/bin/env bash
# SCIM bench (issue 16), on one freshly started service (SQLite; DB=postgres with PG_CS for PostgreSQL):
#   S1  SCIM create          POST /scim/v2/Users                        (no password, unique userNames, SCIM token)
#   S2  SCIM list by filter  GET  /scim/v2/Users?filter=userName sw "scim-"&count=100   (over the users S1 made)
#   U5  API create           POST /api/v1/tenants/{t}/users             (no password, as bench/scale.sh's U5)
# S1 and U5 run in the same run on the same machine, into two tenants of the same database, so their ratio is fair.
# Prints "NAME req/s p50_ms p99_ms" per scenario, the users each create made, and the S1/U5 ratio.
#   DURATION=20s CONNS=32 THREADS=2 bench/scim.sh
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
DURATION="${DURATION:-20s}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-32}"
WARMUP="${WARMUP:-2s}"
WRK_TIMEOUT="${WRK_TIMEOUT:-10s}"
PORT="${BENCH_PORT:-5098}"
BASE="http://127.0.0.1:$PORT"
WORK="${BENCH_WORK:-/tmp/scaikey-bench-scim}"
LINES="$WORK/results/lines.tsv"
CPU_LINES="$WORK/results/cpu.tsv"
REPEAT=1
source "$HERE/lib.sh"
require_tools

rm -rf "$WORK/data" "$WORK/results" && mkdir -p "$WORK/data" "$WORK/results" "$WORK/app"
note "publishing the service into $WORK/app"
publish_service "$WORK/app"
trap stop_server EXIT
start_bench_service

auth=(-H "Authorization: Bearer $ADMIN_TOKEN")
scim_tenant="$(curl -fsS "${auth[@]}" -H 'Content-Type: application/json' -d '{"name":"SCIM bench"}' "$BASE/api/v1/admin/tenants" | json 'd["data"]["id"]')"
api_tenant="$(curl -fsS "${auth[@]}" -H 'Content-Type: application/json' -d '{"name":"API bench"}' "$BASE/api/v1/admin/tenants" | json 'd["data"]["id"]')"
SCIM_TOKEN="$(curl -fsS "${auth[@]}" -H 'Content-Type: application/json' -d '{"name":"bench"}' "$BASE/api/v1/tenants/$scim_tenant/scim/tokens" | json 'd["data"]["token"]')"
[ -n "$SCIM_TOKEN" ] || die "no SCIM token"

BENCH_CREATE_PREFIX=scim run_wrk S1 "$HERE/lua/scim_create_user.lua" -H "Authorization: Bearer $SCIM_TOKEN"
BENCH_TENANT="$api_tenant" BENCH_CREATE_PREFIX=api run_wrk U5 "$HERE/lua/create_user.lua" -H "Authorization: Bearer $ADMIN_TOKEN"

scim_users="$(curl -fsS -H "Authorization: Bearer $SCIM_TOKEN" "$BASE/scim/v2/Users?count=0" | json 'd["totalResults"]')"
api_users="$(curl -fsS "${auth[@]}" "$BASE/api/v1/tenants/$api_tenant/users?per_page=1" | json 'd["meta"]["pagination"]["total_items"] if "meta" in d and d["meta"].get("pagination") else d.get("pagination", {}).get("total", "?")')"
note "users created: SCIM $scim_users, API $api_users"

filter="$(python3 -c 'import urllib.parse; print(urllib.parse.quote("userName sw \"scim-\""))')"
BENCH_PATH="/scim/v2/Users?filter=$filter&count=100" run_wrk S2 "$HERE/lua/get_path.lua" -H "Authorization: Bearer $SCIM_TOKEN"

python3 - "$LINES" <<'PY'
import sys
rates = {l.split()[0]: float(l.split()[2]) for l in open(sys.argv[1])}
print(f"S1/U5 create ratio: {rates['S1'] / rates['U5']:.2f}")
PY
