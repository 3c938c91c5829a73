#!/usr/bin/env bash
# A short run of every fuzz target, from the committed seeds. cargo-fuzz wants nightly flags;
# RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them (no other toolchain can be fetched
# here). Longer runs: scripts/fuzz-smoke.sh 600
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for target in token jwks json base64url config rsa_verify ec_verify curve_point request gate; do
  corpus="fuzz/corpus/$target"
  mkdir -p "$corpus"
  # A crash, a panic or a build failure makes cargo fuzz exit non-zero.
  if ! cargo fuzz run "$target" "$corpus" "fuzz/seeds/$target" -- -max_total_time="$seconds" >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "fuzz $target: FAILED (artifacts in fuzz/artifacts/$target)" >&2
    exit 1
  fi
  echo "fuzz $target: $(grep -E '^Done' "$log" || echo 'no summary')"
done
