#!/usr/bin/env bash
# Benchmark (not a test): native release build, then the release page in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
# The native lines go to the page benchmark too, for its closing line on the targets.
native=$(cargo run --quiet --release --example bench_native)
echo "$native"
NATIVE_BENCH="$native" node scripts/bench.mjs
