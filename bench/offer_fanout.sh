#!/usr/bin/env bash
# Offers fanned out live: one server, STREAMS (default 1000) open offer streams of one crew
# (GET /api/v1/installer/offers/stream), then one booking. Prints the time from the booking's
# answer until the last stream has the offer, and the memory each open stream costs. Release
# build; the server and its clients share one process, so the memory is an upper bound.
#   bench/offer_fanout.sh [streams]
set -euo pipefail
cd "$(dirname "$0")/.."
export STREAMS=${1:-1000}
ulimit -n "$(ulimit -Hn)"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
if ! cargo nextest run --release --run-ignored only --no-capture offers_fan_out_to_many_open_streams >"$out" 2>&1; then
  tail -40 "$out"
  exit 1
fi
grep 'open offer streams' "$out"
