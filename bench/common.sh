# Sourced by the benchmarks: wrk (Debian package) installed when missing, the binary to measure
# in BIN (BENCH_BIN=path measures another build, say the one before a change, without
# building), and `row NAME PATH [LUA]`, one line of requests/s and p50/p99 under wrk with
# $THREADS threads, $CONNECTIONS connections for $DURATION seconds against $URL.
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
if [ -n "${BENCH_BIN:-}" ]; then BIN=$BENCH_BIN; else
  cargo build --release --quiet --bin sunbridge
  BIN=./target/release/sunbridge
fi

# Converts wrk's "1.23ms" / "850.00us" / "1.02s" to milliseconds.
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.2f", v}'; }

row() {
  local name=$1 path=$2 script=${3:-} out
  out=$(wrk -t"${THREADS:-2}" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 5s --latency ${script:+-s "$script"} "$URL$path")
  local rps p50 p99 errors
  rps=$(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}' | to_ms)
  p99=$(echo "$out" | awk '$1=="99%" {print $2}' | to_ms)
  errors=$(echo "$out" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
  printf '%-34s %8s req/s   p50 %7s ms   p99 %7s ms   %s\n' "$name" "$rps" "$p50" "$p99" "${errors:-no errors}"
}
