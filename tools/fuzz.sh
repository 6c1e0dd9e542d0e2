#!/usr/bin/env bash
# Hostile input, automated (S-IN-5): runs every fuzz target in fuzz/ for a bounded time with
# libFuzzer (cargo-fuzz, nightly toolchain) and prints one line per target with the inputs it
# ran. Fails on any crash, panic, timeout (one input over 10 s) or memory blow-up (over 2 GiB);
# the input that did it is kept in fuzz/artifacts/<target>/ to replay with
# `cargo +nightly fuzz run <target> <file>`.
# The corpus of each target starts from the project's own files (testdata/, weather/, the
# example configuration) and grows in fuzz/corpus/ between runs.
# Usage: tools/fuzz.sh [seconds per target, default 60] [target…]
# FUZZ_PROFILE=dev builds without optimisation: a few minutes less to build on a new machine,
# fewer inputs a second; CI's short run uses it, a long local run should not.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(green_button tmy json_body multipart_body config)
CARGO_FUZZ_VERSION=0.13.2
# Built outside the checkout, so that a new clone on the same machine rebuilds only the
# product's own crate (about 7 minutes on two cores) and not every dependency again.
FUZZ_TARGET_DIR=${FUZZ_TARGET_DIR:-$HOME/.cache/sunbridge/fuzz-target}
case "${FUZZ_PROFILE:-release}" in
  release) PROFILE_FLAG=--release ;;
  dev) PROFILE_FLAG=--dev ;;
  *) echo "FUZZ_PROFILE is release or dev" >&2; exit 2 ;;
esac

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
  cargo install --locked --quiet cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi

# The targets build the product with the versions the product's own lock file pins (cargo adds
# only libfuzzer-sys and what it needs).
cp Cargo.lock fuzz/Cargo.lock

# Seeds: whole small files, the first 32 KiB of large ones (libFuzzer's inputs stay short so
# each one runs fast; a truncated file is a fine hostile input in itself).
seed() { # target file…
  local dir=fuzz/corpus/$1
  shift
  mkdir -p "$dir"
  for f in "$@"; do head -c 32768 "$f" >"$dir/seed-$(basename "$f")"; done
}
seed green_button testdata/greenbutton/*.xml
seed tmy weather/*.csv weather/*.CSV
seed config deploy/sunbridge.example.toml
mkdir -p fuzz/corpus/json_body fuzz/corpus/multipart_body
# JSON seeds: the first byte picks the request type (see `sunbridge::fuzzing::json_body`).
printf '\x00{"name":"Home","address":"1 Main St","latitude":35.2,"longitude":-80.8,"region":"us-nc-piedmont","roof_pitch_deg":25,"roof_azimuth_deg":180,"max_panels":20}' >fuzz/corpus/json_body/seed-site
printf '\x01{"email":"a@example.com","password":"violet glacier kestrel lantern","name":"A"}' >fuzz/corpus/json_body/seed-signup
printf '\x02{"site_id":"0190a000-0000-7000-8000-000000000000","panel_id":"x","offset_pct":100}' >fuzz/corpus/json_body/seed-quote
printf '\x03{"to":"site_surveyed","note":"ok"}' >fuzz/corpus/json_body/seed-transition
printf 'XyZ\n--XyZ\r\nContent-Disposition: form-data; name="file"; filename="usage.xml"\r\nContent-Type: application/xml\r\n\r\n<feed xmlns="http://www.w3.org/2005/Atom"/>\r\n--XyZ--\r\n' >fuzz/corpus/multipart_body/seed-usage

failed=0
for target in "${TARGETS[@]}"; do
  log=$(mktemp)
  mkdir -p "fuzz/artifacts/$target"
  if cargo +nightly fuzz run "$PROFILE_FLAG" --sanitizer none --target-dir "$FUZZ_TARGET_DIR" \
    "$target" "fuzz/corpus/$target" -- \
    -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="fuzz/artifacts/$target/" >"$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo '?')
    corpus=$(find "fuzz/corpus/$target" -type f | wc -l)
    echo "fuzz $target: ok, $runs inputs in ${SECONDS_PER_TARGET}s, $cov coverage points, corpus $corpus"
  else
    failed=1
    echo "fuzz $target: FAILED (input kept in fuzz/artifacts/$target/)"
    { grep -E 'panicked|ERROR: libFuzzer|SUMMARY|Test unit written|^error' "$log" || true; } | head -8 | sed 's/^/  /'
    tail -40 "$log" >&2 || true
  fi
  rm -f "$log"
done
exit $failed
