#!/usr/bin/env bash
# Load benchmark: a release build on loopback, driven by wrk (Debian package), bounded in time.
# Prints requests/s and p50/p99 latency per endpoint. Usage:
#   bench/load.sh [seconds per endpoint, default 10] [connections, default 32]
# Everything runs against 127.0.0.1 only, with a fresh SQLite database in a temp directory.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONNECTIONS=${2:-32}
THREADS=2

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
# BENCH_BIN measures another build (say, the one before a change) without building.
if [ -n "${BENCH_BIN:-}" ]; then BIN=$BENCH_BIN; else
  cargo build --release --quiet --bin sunbridge
  BIN=./target/release/sunbridge
fi
# The request budgets stay on but never refuse: these measure throughput, not the limiter.
# shellcheck source=bench/wide-budgets.sh
source bench/wide-budgets.sh

DATA=$(mktemp -d)
LOG=$DATA/server.err
SUNBRIDGE_DATA_DIR=$DATA $BIN serve --listen 127.0.0.1:0 >/dev/null 2>"$LOG" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 100); do grep -q 'running at' "$LOG" && break; sleep 0.1; done
URL=$(grep -o 'running at [^ ]*' "$LOG" | awk '{print $3}')
[ -n "$URL" ] || { cat "$LOG"; exit 1; }

# Converts wrk's "1.23ms" / "850.00us" / "1.02s" to milliseconds.
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.2f", v}'; }

run() {
  local name=$1 path=$2 out
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 5s --latency "$URL$path")
  local rps p50 p99 errors
  rps=$(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}' | to_ms)
  p99=$(echo "$out" | awk '$1=="99%" {print $2}' | to_ms)
  errors=$(echo "$out" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
  printf '%-24s %10s req/s   p50 %8s ms   p99 %8s ms   %s\n' "$name" "$rps" "$p50" "$p99" "${errors:-no errors}"
}

echo "sunbridge load benchmark: $(nproc) cores, wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s, release build, SQLite"
run "GET /healthz" /healthz
run "GET / (landing page)" /
run "GET /readyz (db ping)" /readyz
