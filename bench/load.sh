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

# shellcheck source=bench/common.sh
source bench/common.sh
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

echo "sunbridge load benchmark: $(nproc) cores, wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s, release build, SQLite"
row "GET /healthz" /healthz
row "GET / (landing page)" /
row "GET /readyz (db ping)" /readyz
