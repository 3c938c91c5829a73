#!/usr/bin/env bash
# The main job on an embedded default: Envoy (from PyPI) + the tokengate filter + a demo JWKS
# and upstream on loopback. Prints curl lines with accepted and rejected tokens; Ctrl-C stops
# everything. `scripts/demo.sh --check` runs those requests itself and exits (make test).
set -euo pipefail
cd "$(dirname "$0")/.."
wasm=$(scripts/build-envoy-wasm.sh)
python=$(scripts/venv.sh)
PATH="$(dirname "$python"):$PATH" exec "$python" envoy/demo/demo.py "$wasm" "$@"
