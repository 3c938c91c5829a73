#!/usr/bin/env bash
# The filter in a real Envoy: builds the module, sets up the venv, runs envoy/tests/e2e.py.
set -euo pipefail
cd "$(dirname "$0")/.."
wasm=$(scripts/build-envoy-wasm.sh)
python=$(scripts/venv.sh)
PATH="$(dirname "$python"):$PATH" "$python" envoy/tests/e2e.py "$wasm" | tee target/envoy-e2e.log
