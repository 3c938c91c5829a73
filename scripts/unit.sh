#!/usr/bin/env bash
# Runs the workspace tests (not the benchmark crate, which has none) and keeps the output, so
# `make test` can end on one total line.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p target
cargo test --workspace --exclude tokengate-bench --no-fail-fast 2>&1 | tee target/unit-tests.log
# The core's own unit tests again as the Envoy filter and the npm package's crypto module build
# it: without the `reference` feature (the RustCrypto backend), so keys are validated and
# signatures verified by tokengate's own code alone; and as the npm package's main module builds
# it, without `public-key-verify` either (public-key signatures refused, keys validated alike).
cargo test -p tokengate --no-default-features --features std,regex,public-key-verify --lib --no-fail-fast 2>&1 | tee -a target/unit-tests.log
cargo test -p tokengate --no-default-features --features std,regex --lib --no-fail-fast 2>&1 | tee -a target/unit-tests.log
