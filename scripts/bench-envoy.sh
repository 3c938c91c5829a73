#!/usr/bin/env bash
# The Envoy benchmark (not part of make test): bench/envoy.py with wrk from Debian.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk; }
wasm=$(scripts/build-envoy-wasm.sh)
# The trivial proxy-wasm filter, next to the module (bench/envoy.py looks for it there).
cargo build -q --release -p tokengate-bench-passthrough --target wasm32-wasip1 >&2
python=$(scripts/venv.sh)
PATH="$(dirname "$python"):$PATH" "$python" bench/envoy.py "$wasm" "${1:-4}" ${2:+"$2"}
