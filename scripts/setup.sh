#!/usr/bin/env bash
# Installs what the build and tests need on a fresh machine: the extra rustup targets and
# components (rust-src: the npm module rebuilds std for size, scripts/build-js.sh).
set -euo pipefail
have() { rustup target list --installed 2>/dev/null | grep -qx "$1"; }
for t in wasm32-unknown-unknown wasm32-wasip1 x86_64-unknown-none; do
  have "$t" || rustup target add "$t"
done
for c in clippy rustfmt rust-src; do
  rustup component list --installed 2>/dev/null | grep -q "^$c" || rustup component add "$c"
done
