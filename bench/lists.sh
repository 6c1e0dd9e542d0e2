#!/usr/bin/env bash
# The owned lists under load: one customer with 10 homes, 10 quotes and 10 orders; wrk on
# GET /api/v1/sites, /api/v1/quotes, /api/v1/orders and /api/v1/me/sessions with that
# customer's token, then one home, quote and order by id. Release build on loopback, SQLite by
# default, or the database BENCH_DATABASE_URL names (a fresh one: it is filled here).
# Prints requests/s and p50/p99 per list. Usage:
#   bench/lists.sh [seconds per list, default 10] [connections, default 32]
# BENCH_BIN=path measures another build without building.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONNECTIONS=${2:-32}
# shellcheck source=bench/common.sh
source bench/common.sh
# shellcheck source=bench/wide-budgets.sh
source bench/wide-budgets.sh
DATA=$(mktemp -d)
export SUNBRIDGE_DATA_DIR=$DATA
[ -n "${BENCH_DATABASE_URL:-}" ] && export SUNBRIDGE_DATABASE_URL=$BENCH_DATABASE_URL
SERVER=
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; wait 2>/dev/null; rm -rf "$DATA"' EXIT
EMAIL=lists@example.com
PASSWORD="violet glacier kestrel lantern"
$BIN migrate >/dev/null 2>&1 || true
echo "$PASSWORD" | $BIN admin create-user --email $EMAIL --name "Bench Customer" --role customer >/dev/null
LOG=$DATA/server.err
$BIN serve --listen 127.0.0.1:0 >/dev/null 2>"$LOG" &
SERVER=$!
for _ in $(seq 100); do grep -q 'running at' "$LOG" && break; sleep 0.1; done
URL=$(grep -o 'running at [^ ]*' "$LOG" | awk '{print $3}')
[ -n "$URL" ] || { cat "$LOG"; exit 1; }
TOKEN=$(curl -sf -X POST "$URL/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
api() { curl -sf -X "$1" "$URL$2" -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' ${3:+-d "$3"}; }
id_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
for n in $(seq 10); do
  SITE=$(api POST /api/v1/sites "{\"label\":\"Home $n\",\"address\":\"$n Elm Street, Greensboro NC 27401\",\"latitude\":36.07,\"longitude\":-79.79,\"region_id\":\"us-nc-piedmont\",\"roof_tilt_deg\":25.0,\"roof_azimuth_deg\":180.0,\"max_panels\":24}" | id_of)
  api POST "/api/v1/sites/$SITE/usage" '{"annual_kwh": 10000}' >/dev/null
  QUOTE=$(api POST /api/v1/quotes "{\"site_id\":\"$SITE\",\"options\":[]}" | id_of)
  ORDER=$(api POST "/api/v1/quotes/$QUOTE/accept" | id_of)
done
printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$TOKEN" >"$DATA/auth.lua"

DB=$(case "${BENCH_DATABASE_URL:-sqlite}" in mysql*) echo MariaDB ;; postgres*) echo PostgreSQL ;; *) echo SQLite ;; esac)
echo "owned lists: $(nproc) cores, wrk -t2 -c$CONNECTIONS -d${DURATION}s, release build, $DB, 10 items each"
row "GET /api/v1/sites (10 homes)" /api/v1/sites "$DATA/auth.lua"
row "GET /api/v1/quotes (10)" /api/v1/quotes "$DATA/auth.lua"
row "GET /api/v1/orders (10)" /api/v1/orders "$DATA/auth.lua"
row "GET /api/v1/me/sessions" /api/v1/me/sessions "$DATA/auth.lua"
row "GET /api/v1/sites/{id}" "/api/v1/sites/$SITE" "$DATA/auth.lua"
row "GET /api/v1/quotes/{id}" "/api/v1/quotes/$QUOTE" "$DATA/auth.lua"
row "GET /api/v1/orders/{id}" "/api/v1/orders/$ORDER" "$DATA/auth.lua"
