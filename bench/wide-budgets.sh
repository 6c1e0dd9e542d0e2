# Sourced by the benchmarks: request budgets far beyond what any load here sends, so the
# limiter stays on (its cost is part of every figure) but never refuses. bench/rate_limits.sh
# measures that cost against the limiter turned off.
export SUNBRIDGE_RATE_LIMITS=true
for class in READ WRITE EXPENSIVE; do
  export "SUNBRIDGE_RATE_${class}_PER_MIN=1000000000" "SUNBRIDGE_RATE_${class}_BURST=1000000000"
done
export SUNBRIDGE_RATE_ADDRESS_FACTOR=1
