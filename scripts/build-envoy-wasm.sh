#!/usr/bin/env bash
# Builds the proxy-wasm module for wasm32-wasip1 (its own `-p` run, so feature unification
# with other crates cannot leak into the module) and prints its path.
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target list --installed | grep -qx wasm32-wasip1 || rustup target add wasm32-wasip1 >&2
cargo build -q --release -p tokengate-envoy --target wasm32-wasip1 >&2
echo "$PWD/target/wasm32-wasip1/release/tokengate_envoy.wasm"
