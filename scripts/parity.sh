#!/usr/bin/env bash
# Parity: the same gate configuration and request table through the real Envoy (the proxy-wasm
# filter) and through examples/gate-worker.js in a real workerd (js/parity/parity.mjs).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
mkdir -p target
wasm=$(scripts/build-envoy-wasm.sh)
python=$(scripts/venv.sh)
envoy="$(dirname "$python")/envoy"
[ -f js/pkg/tokengate_gate_bg.wasm ] || scripts/build-js.sh
cd js
node parity/parity.mjs "$envoy" "$wasm" 2>&1 | tee "$ROOT/target/parity.log"
