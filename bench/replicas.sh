#!/usr/bin/env bash
# Replica benchmark: 1, 2 and 3 release-built servers on one MariaDB and one Redis (the local
# services), each driven by its own wrk. Two workloads: an authenticated read (GET
# /api/v1/sites, token checked, one query) and quote creation (POST /api/v1/quotes: sizing,
# a PVWatts year, a write and its audit row on the shared chain). Prints total requests/s, the
# worst p99 of the replicas, and where the CPU went (servers, MariaDB, Redis, wrk), which is
# what says what limits it on this machine. Usage:
#   bench/replicas.sh [seconds per run, default 10] [connections in total, default 24]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONNECTIONS=${2:-24}
MYSQL_HOST=${MYSQL_HOST:-127.0.0.1}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
TAG=bench_$(date +%s)_$$

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet --bin sunbridge
# The request budgets stay on but never refuse: these measure throughput, not the limiter.
# shellcheck source=bench/wide-budgets.sh
source bench/wide-budgets.sh
BIN=$PWD/target/release/sunbridge

WORK=$(mktemp -d)
PIDS=()
stop_servers() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done; for p in "${PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null; done; PIDS=(); }
cleanup() { stop_servers; mysql -h"$MYSQL_HOST" -uroot -e "DROP DATABASE IF EXISTS sb_$TAG" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

mysql -h"$MYSQL_HOST" -uroot -e "CREATE DATABASE sb_$TAG CHARACTER SET utf8mb4"
export SUNBRIDGE_DATABASE_URL="mysql://root@$MYSQL_HOST:3306/sb_$TAG"
export SUNBRIDGE_REDIS_URL=$REDIS_URL SUNBRIDGE_REDIS_PREFIX=$TAG
# Every replica shares the keys, as they would through one Secret.
SUNBRIDGE_SECRET_KEY=$(openssl rand -hex 32); SUNBRIDGE_MASTER_KEY=$(openssl rand -hex 32)
export SUNBRIDGE_SECRET_KEY SUNBRIDGE_MASTER_KEY SUNBRIDGE_AUTO_MIGRATE=false SUNBRIDGE_LOG_LEVEL=info
SUNBRIDGE_DATA_DIR=$WORK/cli "$BIN" migrate >/dev/null

PASSWORD="violet glacier kestrel lantern"
echo "$PASSWORD" | SUNBRIDGE_DATA_DIR=$WORK/cli "$BIN" admin create-user --email bench@example.com --name "Bench Customer" --role customer >/dev/null

start() {
  local i=$1 log=$WORK/server$1.err
  SUNBRIDGE_DATA_DIR=$WORK/data$i "$BIN" serve --listen 127.0.0.1:0 >>"$WORK/server$i.out" 2>"$log" &
  PIDS+=($!)
  for _ in $(seq 100); do grep -q 'running at' "$log" && break; sleep 0.1; done
  # Not in a subshell: PIDS must keep the server. The URL is left in STARTED.
  STARTED=$(grep -o 'running at [^ ]*' "$log" | awk '{print $3}' | sed 's:/$::')
}

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

start 1
FIRST=$STARTED
TOKEN=$(curl -sf -H 'content-type: application/json' -d "{\"email\":\"bench@example.com\",\"password\":\"$PASSWORD\"}" "$FIRST/api/v1/auth/login" | json '["access_token"]')
SITE=$(curl -sf -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"label":"Home","address":"123 Main St, Greensboro NC 27401","latitude":36.07,"longitude":-79.79,"region_id":"us-nc-piedmont","roof_tilt_deg":25.0,"roof_azimuth_deg":180.0,"max_panels":24}' "$FIRST/api/v1/sites" | json '["id"]')
curl -sf -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"annual_kwh": 10950}' "$FIRST/api/v1/sites/$SITE/usage" >/dev/null
stop_servers
cat >"$WORK/quote.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"site_id": "$SITE"}'
EOF

to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.1f", v}'; }
# CPU seconds (user + system) used so far by the processes named.
cpu_of() { local total=0; for p in $(pgrep -x "$1" || true); do total=$(awk -v t="$total" -v hz="$(getconf CLK_TCK)" '{print t + ($14 + $15) / hz}' "/proc/$p/stat" 2>/dev/null || echo "$total"); done; echo "$total"; }
# Busy CPU seconds of the whole machine so far (all but idle and iowait).
cpu_busy() { awk -v hz="$(getconf CLK_TCK)" '/^cpu / {print ($2+$3+$4+$7+$8+$9) / hz}' /proc/stat; }
cpu_of_servers() { local total=0; for p in "${PIDS[@]}"; do total=$(awk -v t="$total" -v hz="$(getconf CLK_TCK)" '{print t + ($14 + $15) / hz}' "/proc/$p/stat"); done; echo "$total"; }

run() {
  local replicas=$1 name=$2; shift 2
  local per=$(( CONNECTIONS / replicas )) outs=() i
  local s0 m0 r0 b0 t0
  s0=$(cpu_of_servers); m0=$(cpu_of mariadbd); r0=$(cpu_of redis-server); b0=$(cpu_busy); t0=$(date +%s.%N)
  for i in $(seq "$replicas"); do
    wrk -t1 -c"$per" -d"${DURATION}s" --timeout 10s --latency -H "authorization: Bearer $TOKEN" "$@" "${URLS[$((i-1))]}$PATH_UNDER_TEST" >"$WORK/wrk$i.out" &
    outs+=($!)
  done
  for p in "${outs[@]}"; do wait "$p"; done
  local wall s1 m1 r1 b1
  wall=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{print b-a}')
  s1=$(cpu_of_servers); m1=$(cpu_of mariadbd); r1=$(cpu_of redis-server); b1=$(cpu_busy)
  local rps=0 p99=0 errors=""
  for i in $(seq "$replicas"); do
    local out=$WORK/wrk$i.out
    rps=$(awk -v t="$rps" '/Requests\/sec/ {printf "%.0f", t + $2}' "$out")
    local p; p=$(awk '$1=="99%" {print $2}' "$out" | to_ms)
    p99=$(awk -v a="$p99" -v b="$p" 'BEGIN{print (b>a)?b:a}')
    errors="$errors$(grep -E 'Non-2xx|Socket errors' "$out" | tr '\n' ' ' || true)"
  done
  local busy
  busy=$(awk -v s="$s1" -v s0="$s0" -v m="$m1" -v m0="$m0" -v r="$r1" -v r0="$r0" -v b="$b1" -v b0="$b0" -v w="$wall" -v n="$(nproc)" \
    'BEGIN{ss=s-s0; mm=m-m0; rr=r-r0; bb=b-b0; printf "CPU: servers %3.0f%%  mariadb %3.0f%%  redis %2.0f%%  wrk+other %3.0f%%  idle %3.0f%% (of %d00%%)", 100*ss/w, 100*mm/w, 100*rr/w, 100*(bb-ss-mm-rr)/w, 100*(n*w-bb)/w, n}')
  printf '%-22s %d replica(s) %8s req/s   worst p99 %8s ms   %s   %s\n' "$name" "$replicas" "$rps" "$p99" "$busy" "${errors:-no errors}"
  if [ -n "$errors" ]; then
    # What the refused requests were, from the servers' own access logs.
    cat "$WORK"/server*.out | grep '"request finished"' | grep -v '"status":20[01]' |
      grep -o '"status":[0-9]*' | sort | uniq -c | sed 's/^/      /'
    cat "$WORK"/server*.out | grep -E '"level":"(ERROR|WARN)"' | grep -o '"message":"[^"]*"' | sort | uniq -c | head -5 | sed 's/^/      /'
  fi
  [ -n "${KEEP_LOGS:-}" ] && cat "$WORK"/server*.out >>"$KEEP_LOGS"
  for i in $(seq "$replicas"); do : >"$WORK/server$i.out"; done
}

echo "sunbridge replica benchmark: $(nproc) cores, MariaDB + Redis on this machine, $CONNECTIONS connections in total, ${DURATION}s per run, release build"
for replicas in 1 2 3; do
  URLS=()
  for i in $(seq "$replicas"); do start "$i"; URLS+=("$STARTED"); done
  PATH_UNDER_TEST=/api/v1/sites run "$replicas" "GET /api/v1/sites"
  PATH_UNDER_TEST=/api/v1/quotes run "$replicas" "POST /api/v1/quotes" -s "$WORK/quote.lua"
  stop_servers
done
