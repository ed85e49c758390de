# One entry point for people and CI. `make serve` and `make test` work from nothing:
# both run scripts/setup.sh first, which installs only what is missing.
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

.PHONY: setup serve test lint unit browser-unit build e2e bench exchange mutants

setup:
	scripts/setup.sh

serve: setup
	trunk serve --open=false

test: setup lint unit browser-unit build e2e
	@echo "all checks passed"

lint:
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

# Weights through a safetensors file both ways with the notebook's CustomMLP in PyTorch
# (also the end of `make bench`).
exchange: setup build
	scripts/setup-pytorch.sh
	node scripts/notebook_exchange.mjs

# Mutation testing of the teaching core: every mutant cargo-mutants makes of these files
# must fail a test, or be listed in docs/testing.md as unable to matter. Not part of
# `make test`: it takes over an hour here. Results in mutants.out/.
MUTATED := mlp loss activation optim gradcheck digit mnist train
CARGO_MUTANTS_VERSION := 27.1.0
mutants: setup
	cargo mutants --version 2>/dev/null | grep -q "$(CARGO_MUTANTS_VERSION)" || \
		cargo install --locked cargo-mutants --version "=$(CARGO_MUTANTS_VERSION)"
	cargo mutants --gitignore=false --jobs 2 $(foreach f,$(MUTATED),--file src/$(f).rs)
