#!/usr/bin/env bash
# Large-data benchmark: the list endpoints' p99 on a small MariaDB database (1,000 customers,
# 10,000 audit rows), then again at 100,000 customers and 1,000,000 audit rows (bulk SQL, as a
# few years of production would leave them). Every list returns a full page in both phases, so
# only the size of the data differs. Target: large p99 within 1.5x of small. Usage:
#   bench/large_data.sh [seconds per round, default 10] [connections, default 8]
# (ROUNDS=3 rounds per endpoint and phase; the median is reported.)
# The bulk audit rows are written around the hash chain (no seq), so this database's chain
# does not verify; that does not change the cost of listing.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONNECTIONS=${2:-8}
MYSQL_HOST=${MYSQL_HOST:-127.0.0.1}
CUSTOMERS=${CUSTOMERS:-100000}
AUDIT_ROWS=${AUDIT_ROWS:-1000000}
TAG=bench_$(date +%s)_$$
DB=sb_$TAG

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet --bin sunbridge
# The request budgets stay on but never refuse: these measure throughput, not the limiter.
# shellcheck source=bench/wide-budgets.sh
source bench/wide-budgets.sh
BIN=$PWD/target/release/sunbridge
WORK=$(mktemp -d)
SERVER=""
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; mysql -h"$MYSQL_HOST" -uroot -e "DROP DATABASE IF EXISTS $DB" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

mysql -h"$MYSQL_HOST" -uroot -e "CREATE DATABASE $DB CHARACTER SET utf8mb4"
export SUNBRIDGE_DATABASE_URL="mysql://root@$MYSQL_HOST:3306/$DB" SUNBRIDGE_DATA_DIR=$WORK/data
# The automatic defence would block this loopback client after many refusals; none are expected.
export SUNBRIDGE_LOG_LEVEL=warn
# The run outlasts a 10-minute access token; token lifetimes are not what is measured here.
export SUNBRIDGE_ACCESS_TOKEN_TTL_SECS=3600 SUNBRIDGE_STAFF_SESSION_IDLE_SECS=3600
"$BIN" migrate >/dev/null
PASSWORD="violet glacier kestrel lantern"
for who in "admin@bench.example Ada admin" "support@bench.example Sam support" "owner@bench.example Olive customer"; do
  set -- $who
  echo "$PASSWORD" | "$BIN" admin create-user --email "$1" --name "$2 Bench" --role "$3" >/dev/null
done

"$BIN" serve --listen 127.0.0.1:0 >/dev/null 2>"$WORK/server.err" &
SERVER=$!
for _ in $(seq 100); do grep -q 'running at' "$WORK/server.err" && break; sleep 0.1; done
URL=$(grep -o 'running at [^ ]*' "$WORK/server.err" | awk '{print $3}' | sed 's:/$::')

api() { curl -sf -H 'content-type: application/json' "$@"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }
# RFC 6238 code for a base32 secret (the bench's own authenticator).
totp() {
  python3 - "$1" <<'PY'
import base64, hmac, struct, sys, time
key = base64.b32decode(sys.argv[1].upper() + "=" * (-len(sys.argv[1]) % 8))
mac = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), "sha1").digest()
o = mac[-1] & 15
print("%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1000000))
PY
}
token_of() {
  local token secret
  token=$(api -d "{\"email\":\"$1\",\"password\":\"$PASSWORD\"}" "$URL/api/v1/auth/login" | field access_token)
  if [ "$2" = staff ]; then
    secret=$(api -H "authorization: Bearer $token" -d '{}' "$URL/api/v1/me/mfa/totp" | field secret)
    api -H "authorization: Bearer $token" -d "{\"code\":\"$(totp "$secret")\"}" "$URL/api/v1/me/mfa/totp/confirm" >/dev/null
  fi
  echo "$token"
}
ADMIN=$(token_of admin@bench.example staff)
SUPPORT=$(token_of support@bench.example staff)
OWNER=$(token_of owner@bench.example customer)

to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.2f", v}'; }
declare -A P99
# p99 at saturation on 2 shared cores swings by 2x from run to run (scheduling, not data), so
# each endpoint is measured ROUNDS times and the median p99 and rate are kept.
ROUNDS=${ROUNDS:-3}
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
measure() {
  local phase=$1 name=$2 token=$3 path=$4 out p99s="" rates="" errors=""
  for _ in $(seq "$ROUNDS"); do
    out=$(wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s --latency -H "authorization: Bearer $token" "$URL$path")
    p99s="$p99s $(echo "$out" | awk '$1=="99%" {print $2}' | to_ms)"
    rates="$rates $(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}')"
    errors="$errors$(echo "$out" | grep -E 'Non-2xx|Socket errors' | tr '\n' ' ' || true)"
  done
  local p99 rps
  p99=$(echo $p99s | tr ' ' '\n' | median)
  rps=$(echo $rates | tr ' ' '\n' | median)
  P99["$phase $name"]=$p99
  printf '  %-40s %8s req/s   p99 %8s ms  (rounds:%s ms)   %s\n' "$name" "$rps" "$p99" "$p99s" "${errors:-no errors}"
}
ENDPOINTS=(
  "audit, newest 50|ADMIN|/api/v1/admin/audit?limit=50"
  "audit, one action|ADMIN|/api/v1/admin/audit?limit=50&action=auth.login_failed"
  "audit, one target|ADMIN|/api/v1/admin/audit?limit=50&target_kind=user&target_id=bench-target-42"
  "customer search by email|SUPPORT|/api/v1/staff/customers?query=cust000991%40bench"
  "customer search by name|SUPPORT|/api/v1/staff/customers?query=Customer%20000991"
  "staff list|ADMIN|/api/v1/admin/staff"
  "own sites (customer)|OWNER|/api/v1/sites"
)
run_all() {
  for e in "${ENDPOINTS[@]}"; do
    IFS='|' read -r name who path <<<"$e"
    measure "$1" "$name" "${!who}" "$path"
  done
}

innodb() { mysql -h"$MYSQL_HOST" -uroot -N -e "SHOW GLOBAL STATUS LIKE '$1'" | awk '{print $2}'; }
# load C0 C1 A0 A1: customers C0..C1 and audit rows A0..A1 in bulk SQL, their search words
# rebuilt the way an operator does after a bulk import, then a wait until InnoDB has flushed:
# a freshly bulk-loaded InnoDB spends a while writing dirty pages in the background, while
# production's years of data are at rest (until a tenth of the pool is dirty or flushing stops
# progressing, at most 2 minutes).
# Numbers are fixed-width (cust000991), so one search names one customer whatever the size;
# targets repeat every 200 rows, so every list returns a full page in both phases.
load() {
  local started=$(date +%s) loaded words settled
  mysql -h"$MYSQL_HOST" -uroot "$DB" >/dev/null <<SQL
INSERT INTO users (id, email, name, role, password_hash, email_verified_at, created_at, updated_at)
  SELECT UNHEX(REPLACE(UUID(), '-', '')), CONCAT('cust', LPAD(seq, 6, '0'), '@bench.example'),
         CONCAT('Customer ', LPAD(seq, 6, '0')), 'customer', NULL, NOW(6), NOW(6) - INTERVAL seq MINUTE, NOW(6) - INTERVAL seq MINUTE
  FROM seq_${1}_to_$2;
INSERT INTO audit_events (occurred_at, actor_id, actor_role, origin, client_ip, request_id, action, target_kind, target_id, details)
  SELECT NOW(6) - INTERVAL ($AUDIT_ROWS - seq) SECOND, NULL, 'customer', 'http', CONCAT('10.', seq % 250, '.', seq % 199, '.', seq % 7),
         UUID(), ELT(1 + seq % 6, 'auth.login_succeeded', 'quote.created', 'auth.login_failed', 'customer.pii_viewed', 'job.step_taken', 'auth.token_refreshed'),
         'user', CONCAT('bench-target-', seq % 200), '{}'
  FROM seq_${3}_to_$4;
ANALYZE TABLE users, audit_events;
SQL
  loaded=$(( $(date +%s) - started ))
  started=$(date +%s)
  "$BIN" admin reindex-search >/dev/null
  words=$(( $(date +%s) - started ))
  started=$(date +%s)
  # MariaDB leaves some dirty pages in an idle pool for good: wait while flushing progresses.
  local total=$(innodb Innodb_buffer_pool_pages_total) before after
  while [ $(( $(date +%s) - started )) -lt 120 ]; do
    before=$(innodb Innodb_buffer_pool_pages_dirty)
    [ "$before" -lt $(( total / 10 )) ] && break
    sleep 5
    after=$(innodb Innodb_buffer_pool_pages_dirty)
    [ "$after" -ge "$before" ] && break
  done
  settled=$(( $(date +%s) - started ))
  echo "$(mysql -h"$MYSQL_HOST" -uroot -N "$DB" -e 'SELECT COUNT(*) FROM users') users, $(mysql -h"$MYSQL_HOST" -uroot -N "$DB" -e 'SELECT COUNT(*) FROM audit_events') audit rows (bulk SQL $loaded s, search words $words s, settled $settled s)"
}

echo "sunbridge large-data benchmark: $(nproc) cores, MariaDB, wrk -t1 -c$CONNECTIONS -d${DURATION}s x $ROUNDS rounds (median), release build"
SMALL_C=$(( CUSTOMERS / 100 )) SMALL_A=$(( AUDIT_ROWS / 100 ))
echo "small: $(load 1 $SMALL_C 1 $SMALL_A)"
run_all small
echo "large: $(load $(( SMALL_C + 1 )) $CUSTOMERS $(( SMALL_A + 1 )) $AUDIT_ROWS)"
run_all large

echo "p99 large / small (target at most 1.5):"
for e in "${ENDPOINTS[@]}"; do
  IFS='|' read -r name _ _ <<<"$e"
  awk -v n="$name" -v s="${P99["small $name"]}" -v l="${P99["large $name"]}" \
    'BEGIN{r=(s>0)?l/s:0; printf "  %-40s %6.2f  %s\n", n, r, (r<=1.5)?"within target":"OVER TARGET"}'
done
