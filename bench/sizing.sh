#!/usr/bin/env bash
# Sizing benchmark (release build, in-process): Green Button import of the one-year hourly
# file (about 1.7 MB) and a full-year hourly PVWatts simulation. Prints median and best times.
# Targets on the 2-core CI machine: import <= 30 ms, simulation <= 5 ms.
# Usage: bench/sizing.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release --quiet --example sizing_bench -- \
  testdata/greenbutton/Coastal_Single_Family_Jan_1_2011_to_Jan_1_2012.xml \
  weather/723170TYA.CSV
