# One entry point for people and CI. `make serve` and `make test` work from nothing:
# both run scripts/setup.sh first, which installs only what is missing.
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

.PHONY: setup serve test lint unit browser-unit build e2e bench soak exchange fixtures fuzz mutants

setup:
	scripts/setup.sh

serve: setup
	trunk serve --open=false

test: setup lint unit browser-unit build e2e
	@echo "all checks passed"

# tsc: the JSDoc types of www/js (tsconfig.json), nothing emitted.
lint:
	tsc -p tsconfig.json
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy --all-targets --target wasm32-unknown-unknown -- -D warnings
	RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet

# Release (what ships), then the dev profile once more: its debug assertions are on.
unit:
	cargo test --release
	cargo test

browser-unit:
	wasm-pack test --headless --chrome

build:
	trunk build --release

e2e:
	node --test --test-concurrency=1 tests/e2e/

bench: setup build
	scripts/bench.sh

# The Assignment preset's 25 epochs through the page: wasm memory, JS heap and the
# longest main-thread task after each epoch, and whether memory stays flat (also the
# end of `make bench`). Not part of `make test`. Figures in docs/performance.md.
soak: setup build
	node scripts/soak.mjs

# Weights through a safetensors file both ways with the notebook's CustomMLP in PyTorch
# (also the end of `make bench`).
exchange: setup build
	scripts/setup-pytorch.sh
	node scripts/notebook_exchange.mjs

# Optimiser fixtures for what the shared ones leave out (Nesterov, weight decay), made by
# real PyTorch into tests/fixtures/pytorch-made-here/.
fixtures: setup
	scripts/setup-pytorch.sh
	target/pytorch/bin/python scripts/optimizer_fixtures.py

# The long fuzzing of every parser of outside bytes: libFuzzer (cargo-fuzz, nightly) for
# FUZZ_SECONDS a target, then the seeded mutation tests of `make test` a hundred times
# longer. Not part of `make test`. Figures in docs/testing.md.
CARGO_FUZZ_VERSION := 0.13.2
FUZZ_SECONDS ?= 300
FUZZ_TARGETS := idx weights bundle forms
fuzz: setup
	rustup toolchain list | grep -q nightly || rustup toolchain install nightly --profile minimal
	cargo fuzz --version 2>/dev/null | grep -q "$(CARGO_FUZZ_VERSION)" || \
		cargo install --locked cargo-fuzz --version "=$(CARGO_FUZZ_VERSION)"
	cd fuzz && for target in $(FUZZ_TARGETS); do \
		cargo +nightly fuzz run -O $$target -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=1024 -max_len=65536 \
			2>&1 | grep -E "^(#[0-9]+ +DONE|Done|==|SUMMARY|artifact)" ; \
	done
	FUZZ_ITERATIONS=150000 cargo test --release --test fuzz_parsers -- --nocapture

# Mutation testing of the teaching core: every mutant cargo-mutants makes of these files
# must fail a test, or be listed in docs/testing.md as unable to matter. Not part of
# `make test`: it takes over an hour here. Results in mutants.out/.
MUTATED := model/mlp model/loss model/activation model/optim model/bug check/gradcheck check/inspect views/digit files/mnist train/mod
CARGO_MUTANTS_VERSION := 27.1.0
mutants: setup
	cargo mutants --version 2>/dev/null | grep -q "$(CARGO_MUTANTS_VERSION)" || \
		cargo install --locked cargo-mutants --version "=$(CARGO_MUTANTS_VERSION)"
	cargo mutants --gitignore=false --jobs 2 $(foreach f,$(MUTATED),--file src/$(f).rs)
