#!/usr/bin/env bash
# The hosted login page's GET on SQLite: a fresh Release instance with a bootstrap admin (its "platform" tenant has
# a login page), then wrk with one thread and 4 connections. Usage: bench/hosted-login.sh [port] [seconds]
# Build first: dotnet build ScaiKey.slnx -c Release
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
port=${1:-5091}
seconds=${2:-10}
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
ASPNETCORE_URLS="http://127.0.0.1:$port" ASPNETCORE_ENVIRONMENT=Production \
  ScaiKey__Bootstrap__AdminEmail=bench@example.com ScaiKey__Bootstrap__AdminPassword='Bench-Hosted-Login-2026!' \
  dotnet "$root/src/ScaiKey.Api/bin/Release/net10.0/ScaiKey.Api.dll" >"$work/server.log" 2>&1 &
pid=$!
url="http://127.0.0.1:$port/t/platform/login"
for _ in $(seq 1 120); do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "$url" || true)" = 200 ]; then break; fi
  sleep 0.5
done
curl -s -o /dev/null -w 'status %{http_code}, %{size_download} bytes\n' "$url"
# Warm-up (JIT, tiered compilation), then the measured run.
wrk -t1 -c4 -d5s "$url" >/dev/null
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
wrk -t1 -c4 -d"${seconds}s" --latency "$url"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
