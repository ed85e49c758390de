#!/usr/bin/env bash
# Benchmark (not a test): native release build, then the release page in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet --release --example bench_native
node scripts/bench.mjs
