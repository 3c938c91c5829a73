#!/usr/bin/env bash
# Runs the workspace tests (not the benchmark crate, which has none) and keeps the output, so
# `make test` can end on one total line.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p target
cargo test --workspace --exclude tokengate-bench --no-fail-fast 2>&1 | tee target/unit-tests.log
