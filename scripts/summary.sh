#!/usr/bin/env bash
# Totals the count lines of the last `make test` parts (cargo, Envoy e2e, demo check, npm
# package, Envoy/workerd parity) into one closing line.
set -euo pipefail
cd "$(dirname "$0")/.."
awk '/^test result:|^envoy e2e:|^demo check:|^js tests:|^parity:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { if (p == 0) { print "tests: no test ran" > "/dev/stderr"; exit 1 } printf "tests: %d passed, %d failed\n", p, f; exit (f > 0) }' \
  target/unit-tests.log target/envoy-e2e.log target/demo-check.log target/js-tests.log target/parity.log
