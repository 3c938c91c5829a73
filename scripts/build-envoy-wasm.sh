#!/usr/bin/env bash
# Builds the proxy-wasm module for wasm32-wasip1 (its own `-p` run, so feature unification
# with other crates cannot leak into the module) and prints its path.
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target list --installed | grep -qx wasm32-wasip1 || rustup target add wasm32-wasip1 >&2
# simd128: the core's RSA arithmetic runs its rows four limbs at a time (Envoy's V8 accepts
# wasm SIMD; BENCHMARKS.md has the measured difference).
export CARGO_TARGET_WASM32_WASIP1_RUSTFLAGS="-C target-feature=+simd128"
cargo build -q --release -p tokengate-envoy --target wasm32-wasip1 >&2
echo "$PWD/target/wasm32-wasip1/release/tokengate_envoy.wasm"
