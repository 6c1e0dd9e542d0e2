#!/usr/bin/env bash
# Cost of the request budgets (S-DE-3) on the cheapest authenticated read: GET /api/v1/me with
# one token (served from the token cache), release build, SQLite, loopback only, wrk -c32.
# Runs the server with the limiter off, then on (budgets too wide to refuse), alternating
# ROUNDS times, and prints each run, the medians and the cost. Target: at most 5 % fewer
# requests per second with the limiter on.
# Usage: bench/rate_limits.sh [seconds per run, default 10] [rounds, default 3]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
ROUNDS=${2:-3}
# shellcheck source=bench/common.sh
source bench/common.sh
DATA=$(mktemp -d)
export SUNBRIDGE_DATA_DIR=$DATA
SERVER=
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; wait 2>/dev/null; rm -rf "$DATA"' EXIT
EMAIL=bench@example.com
PASSWORD="violet glacier kestrel lantern"
echo "$PASSWORD" | $BIN admin create-user --email $EMAIL --name "Bench Customer" --role customer >/dev/null
# shellcheck source=bench/wide-budgets.sh
source bench/wide-budgets.sh

start() { # rate_limits on|off; leaves URL and SERVER
  local log=$DATA/server.err
  : >"$log"
  SUNBRIDGE_RATE_LIMITS=$1 $BIN serve --listen 127.0.0.1:0 >/dev/null 2>"$log" &
  SERVER=$!
  for _ in $(seq 100); do grep -q 'running at' "$log" && break; sleep 0.1; done
  URL=$(grep -o 'running at [^ ]*' "$log" | awk '{print $3}')
  TOKEN=$(curl -s -X POST "$URL/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$TOKEN" >"$DATA/me.lua"
}
stop() { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=; }

# CPU time (user + system, in clock ticks) the server process has used so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }

measure() { # on|off → prints "req/s server-CPU-µs-per-request"
  start "$1"
  local out before after requests
  before=$(cpu_ticks)
  out=$(wrk -t2 -c32 -d"${DURATION}s" --latency -s "$DATA/me.lua" "$URL/api/v1/me")
  after=$(cpu_ticks)
  stop
  if echo "$out" | grep -q 'Non-2xx'; then echo "refused or failed requests in the $1 run:" >&2; echo "$out" >&2; exit 1; fi
  requests=$(echo "$out" | awk '/requests in/ {print $1}')
  # Throughput moves with whatever else the machine runs; the server's own CPU time per
  # request moves much less, so both are printed.
  echo "$out" | awk -v t=$((after - before)) -v n="$requests" -v hz="$(getconf CLK_TCK)" \
    '/Requests\/sec/ {printf "%.0f %.1f", $2, t / hz * 1e6 / n}'
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "rate-limit cost: $(nproc) cores, release build, SQLite, GET /api/v1/me, wrk -t2 -c32 -d${DURATION}s, $ROUNDS rounds"
OFF=(); ON=(); OFF_CPU=(); ON_CPU=()
for r in $(seq "$ROUNDS"); do
  read -r rps cpu <<<"$(measure false)"; OFF+=("$rps"); OFF_CPU+=("$cpu")
  read -r rps cpu <<<"$(measure true)"; ON+=("$rps"); ON_CPU+=("$cpu")
  printf 'round %d: limiter off %8s req/s %6s µs CPU/request   on %8s req/s %6s µs CPU/request\n' \
    "$r" "${OFF[-1]}" "${OFF_CPU[-1]}" "${ON[-1]}" "${ON_CPU[-1]}"
done
MOFF=$(printf '%s\n' "${OFF[@]}" | median)
MON=$(printf '%s\n' "${ON[@]}" | median)
COFF=$(printf '%s\n' "${OFF_CPU[@]}" | median)
CON=$(printf '%s\n' "${ON_CPU[@]}" | median)
awk -v off="$MOFF" -v on="$MON" -v coff="$COFF" -v con="$CON" 'BEGIN {
  printf "median throughput: off %.0f req/s, on %.0f req/s: %.1f %% fewer with the limiter (target <= 5 %%)\n", off, on, (off - on) / off * 100
  printf "median server CPU: off %.1f µs/request, on %.1f µs/request: the limiter adds %.1f %%\n", coff, con, (con - coff) / coff * 100
}'
