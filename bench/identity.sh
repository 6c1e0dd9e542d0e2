#!/usr/bin/env bash
# Identity benchmark (release build, SQLite, loopback only, bounded runs):
#  1. sign-in throughput at the configured argon2id cost, next to the bound measured in the
#     same run (cores ÷ time of one hash), and the server's peak RSS during the flood;
#  2. authenticated GET /api/v1/me next to GET /healthz;
#  3. GET /api/v1/me latency while a sign-in flood runs.
# Usage: bench/identity.sh [seconds per run, default 10; the flood RSS run uses 30]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
FLOOD=30
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet --bin sunbridge
# The request budgets stay on but never refuse: these measure throughput, not the limiter.
# shellcheck source=bench/wide-budgets.sh
source bench/wide-budgets.sh
BIN=./target/release/sunbridge

DATA=$(mktemp -d)
export SUNBRIDGE_DATA_DIR=$DATA
LOG=$DATA/server.err
EMAIL=bench@example.com
PASSWORD="violet glacier kestrel lantern"
echo "$PASSWORD" | $BIN admin create-user --email $EMAIL --name "Bench Customer" --role customer >/dev/null
$BIN serve --listen 127.0.0.1:0 >/dev/null 2>"$LOG" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 100); do grep -q 'running at' "$LOG" && break; sleep 0.1; done
URL=$(grep -o 'running at [^ ]*' "$LOG" | awk '{print $3}')

TOKEN=$(curl -s -X POST "$URL/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

cat > "$DATA/login.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"$EMAIL","password":"$PASSWORD"}'
LUA
cat > "$DATA/me.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $TOKEN"
LUA

to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.2f", v}'; }
report() { # name, wrk output
  local rps p50 p99 errors
  rps=$(echo "$2" | awk '/Requests\/sec/ {printf "%.0f", $2}')
  p50=$(echo "$2" | awk '$1=="50%" {print $2}' | to_ms)
  p99=$(echo "$2" | awk '$1=="99%" {print $2}' | to_ms)
  errors=$(echo "$2" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
  printf '%-34s %8s req/s   p50 %8s ms   p99 %8s ms   %s\n' "$1" "$rps" "$p50" "$p99" "${errors:-no errors}"
}

echo "identity benchmark: $(nproc) cores, release build, SQLite, wrk -c32"
$BIN hash-cost

# 1. Sign-in flood for $FLOOD s, sampling the server's RSS every second.
PEAK=0
( for _ in $(seq $FLOOD); do awk '/VmRSS/ {print $2}' /proc/$SERVER/status; sleep 1; done ) > "$DATA/rss" &
SAMPLER=$!
OUT=$(wrk -t2 -c32 -d${FLOOD}s --timeout 10s --latency -s "$DATA/login.lua" "$URL/api/v1/auth/login")
wait $SAMPLER
PEAK=$(sort -n "$DATA/rss" | tail -1)
report "POST /api/v1/auth/login" "$OUT"
echo "peak server RSS during the ${FLOOD}s sign-in flood: $((PEAK / 1024)) MiB"

# 2. Authenticated reads next to the liveness probe.
report "GET /healthz" "$(wrk -t2 -c32 -d${DURATION}s --latency "$URL/healthz")"
report "GET /api/v1/me" "$(wrk -t2 -c32 -d${DURATION}s --latency -s "$DATA/me.lua" "$URL/api/v1/me")"

# 3. /me while sign-ins flood the hashing pool.
wrk -t1 -c32 -d${DURATION}s --timeout 10s -s "$DATA/login.lua" "$URL/api/v1/auth/login" >/dev/null &
FLOODER=$!
sleep 1
report "GET /api/v1/me during sign-in flood" "$(wrk -t1 -c8 -d$((DURATION - 2))s --latency -s "$DATA/me.lua" "$URL/api/v1/me")"
wait $FLOODER
